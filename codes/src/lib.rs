//! The rule codes of [threadlint](https://github.com/threadlint/threadlint), in one place: the
//! analyzer's rule table, the `#[allow(…)]` attribute of `threadlint-macros` and the tests all
//! read them from here.

#![forbid(unsafe_code)]

/// Writes the enum, [`Code::ALL`] and [`Code::as_str`] from one list of variants.
macro_rules! codes {
    ($(#[$meta:meta])* pub enum Code { $($code:ident),+ $(,)? }) => {
        $(#[$meta])*
        pub enum Code {
            $($code),+
        }

        impl Code {
            /// Every code, in order.
            pub const ALL: &'static [Code] = &[$(Code::$code),+];

            /// The code as written: `"TP001"`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$code => stringify!($code)),+
                }
            }
        }
    };
}

codes! {
    /// A threadlint rule code.
    ///
    /// This enum is the one list of codes: adding a rule adds one variant here (in order). The
    /// analyzer's unit tests then require a rule with that code at that place in its table, and
    /// `#[threadlint_macros::allow]` accepts it.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Code {
        TP001,
        TP002,
        TP003,
        TP004,
        TP005,
        TP006,
        TP007,
        TP008,
        TP009,
        TP010,
    }
}

impl Code {
    /// The code named `s`, ignoring ASCII case (`"tp003"` is [`Code::TP003`]).
    pub fn parse(s: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Code;

    #[test]
    fn all_is_in_order_without_repeats() {
        assert!(Code::ALL.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn codes_are_numbered_from_one() {
        for (i, c) in Code::ALL.iter().enumerate() {
            assert_eq!(c.as_str(), format!("TP{:03}", i + 1));
            assert_eq!(format!("{c:?}"), c.as_str());
            assert_eq!(c.to_string(), c.as_str());
        }
    }

    #[test]
    fn parse_round_trips_ignoring_case() {
        for &c in Code::ALL {
            assert_eq!(Code::parse(c.as_str()), Some(c));
            assert_eq!(Code::parse(&c.as_str().to_lowercase()), Some(c));
        }
        assert_eq!(Code::parse("tP003"), Some(Code::TP003));
        for bad in [
            "", "TP", "TP000", "TP999", "TP0001", " TP001", "TP001 ", "XX001",
        ] {
            assert_eq!(Code::parse(bad), None, "{bad:?}");
        }
    }
}
