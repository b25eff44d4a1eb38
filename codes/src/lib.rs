//! The rule codes of [threadlint](https://github.com/threadlint/threadlint), in one place: the
//! analyzer's rule table, the `#[allow(…)]` attribute of `threadlint-macros` and the tests all
//! read them from here.

#![forbid(unsafe_code)]

/// Writes the enum, [`Code::ALL`], [`Code::as_str`] and [`for_each_rule!`] from one list of
/// variants, each with the name of the analyzer module that implements it.
macro_rules! codes {
    ($(#[$meta:meta])* pub enum Code { $($code:ident => $module:ident),+ $(,)? }) => {
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

        /// Expands to `rules![tp001, tp002, …]`: the analyzer's rule modules, in code order. The
        /// analyzer defines `rules!` to declare each module and list its `RULE`, so a new code
        /// here is a new rule there (and a compile error until `src/rules/tpNNN.rs` exists).
        #[macro_export]
        macro_rules! for_each_rule {
            () => {
                rules![$($module),+];
            };
        }
    };
}

codes! {
    /// A threadlint rule code.
    ///
    /// This enum is the one list of codes: adding a rule adds one line here (in order), with the
    /// analyzer module that implements it. The analyzer then declares that module and lists its
    /// rule (through [`for_each_rule!`]), its unit tests check the rule's code, and
    /// `#[threadlint_macros::allow]` accepts it.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Code {
        TP001 => tp001,
        TP002 => tp002,
        TP003 => tp003,
        TP004 => tp004,
        TP005 => tp005,
        TP006 => tp006,
        TP007 => tp007,
        TP008 => tp008,
        TP009 => tp009,
        TP010 => tp010,
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
