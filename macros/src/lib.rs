//! Attribute macros that mark thread-context propagation points for `threadlint`.
//!
//! Every attribute expands to the annotated item unchanged; the analyzer reads them from source.
use proc_macro::TokenStream;

macro_rules! passthrough {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[proc_macro_attribute]
        pub fn $name(_args: TokenStream, item: TokenStream) -> TokenStream {
            item
        }
    )*};
}

passthrough!(
    /// Marks a function as a WebSocket entry point.
    entry,
    /// Marks a function as a tool.
    tool,
    /// Marks a type as a thread-context type.
    context,
    /// Declares that a function forwards the named context parameter.
    propagates,
    /// Marks a function where contexts may legitimately be created.
    origin,
    /// Suppresses the named threadlint rules on an item (a reason is required).
    allow,
);
