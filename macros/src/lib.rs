//! Attribute macros that mark thread-context propagation points for
//! [threadlint](https://github.com/threadlint/threadlint), a static analyzer that proves each
//! conversation's thread context survives every handoff from a WebSocket to the tools an agent runs.
//!
//! Every attribute expands to the annotated item **unchanged** (no runtime cost). Each checks at
//! compile time what it can, with an error at the offending token. threadlint reads them from
//! source, however they are imported (`#[threadlint_macros::tool]`, `use threadlint_macros::tool;
//! #[tool]`, `use threadlint_macros as tl; #[tl::tool]`).
//!
//! | attribute | goes on | says |
//! |---|---|---|
//! | [`entry`] | a function | this is a WebSocket entry point |
//! | [`tool`] | a function | this is a tool an agent calls |
//! | [`context`] | a struct, enum or type alias | this type is a thread context |
//! | [`propagates`]`(ctx)` | a function with a parameter `ctx` | this function forwards `ctx` |
//! | [`origin`] | a function | contexts may be created here |
//! | [`allow`]`(TP001, reason = "…")` | any item | suppress these rules on this item |

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Error, Token};
use threadlint_codes::Code;

/// Emit the item unchanged, or the error followed by the item (so that one mistake does not
/// cascade into "cannot find function" errors elsewhere).
fn finish(result: syn::Result<()>, item: TokenStream) -> TokenStream {
    match result {
        Ok(()) => item,
        Err(e) => {
            let mut out: TokenStream = e.to_compile_error().into();
            out.extend(item);
            out
        }
    }
}

fn no_args(name: &str, args: TokenStream) -> syn::Result<()> {
    let args = TokenStream2::from(args);
    if args.is_empty() {
        Ok(())
    } else {
        Err(Error::new(
            args.span(),
            format!("`#[{name}]` takes no arguments"),
        ))
    }
}

/// The function's signature, for a free function, a method in an `impl` or a trait.
fn function(name: &str, item: &TokenStream) -> syn::Result<syn::Signature> {
    let tokens = TokenStream2::from(item.clone());
    if let Ok(f) = syn::parse2::<syn::ItemFn>(tokens.clone()) {
        return Ok(f.sig);
    }
    if let Ok(f) = syn::parse2::<syn::ImplItemFn>(tokens.clone()) {
        return Ok(f.sig);
    }
    if let Ok(f) = syn::parse2::<syn::TraitItemFn>(tokens.clone()) {
        return Ok(f.sig);
    }
    Err(Error::new(
        item_span(&tokens),
        format!("`#[{name}]` goes on a function (free, or a method in an `impl` or trait block)"),
    ))
}

/// The span of an item's keyword (`struct`, `const` …), past its attributes and visibility.
fn item_span(tokens: &TokenStream2) -> Span {
    let parsed = syn::parse2::<syn::Item>(tokens.clone());
    match parsed {
        Ok(syn::Item::Struct(s)) => s.struct_token.span,
        Ok(syn::Item::Enum(e)) => e.enum_token.span,
        Ok(syn::Item::Const(c)) => c.const_token.span,
        Ok(syn::Item::Static(s)) => s.static_token.span,
        Ok(syn::Item::Type(t)) => t.type_token.span,
        Ok(syn::Item::Impl(i)) => i.impl_token.span,
        Ok(syn::Item::Mod(m)) => m.mod_token.span,
        Ok(syn::Item::Trait(t)) => t.trait_token.span,
        Ok(syn::Item::Use(u)) => u.use_token.span,
        Ok(syn::Item::Fn(f)) => f.sig.fn_token.span,
        Ok(other) => other.span(),
        Err(_) => tokens.span(),
    }
}

/// Marks a function as a WebSocket entry point: threadlint follows every chain from it to a tool.
///
/// ```
/// #[threadlint_macros::entry]
/// async fn on_frame(frame: String) {
///     let _ = frame;
/// }
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn entry(args: TokenStream, item: TokenStream) -> TokenStream {
    let r = no_args("entry", args).and_then(|()| function("entry", &item).map(drop));
    finish(r, item)
}

/// Marks a function as a tool an agent calls: it must be able to receive a thread context.
///
/// ```
/// struct ThreadContext;
///
/// #[threadlint_macros::tool]
/// fn web_search(ctx: &ThreadContext, query: &str) -> String {
///     let _ = ctx;
///     query.to_owned()
/// }
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn tool(args: TokenStream, item: TokenStream) -> TokenStream {
    let r = no_args("tool", args).and_then(|()| function("tool", &item).map(drop));
    finish(r, item)
}

/// Marks a function where contexts may legitimately be created (a job runner, a test harness).
///
/// ```
/// struct ThreadContext(u64);
///
/// #[threadlint_macros::origin]
/// fn nightly_job() -> ThreadContext {
///     ThreadContext(0)
/// }
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn origin(args: TokenStream, item: TokenStream) -> TokenStream {
    let r = no_args("origin", args).and_then(|()| function("origin", &item).map(drop));
    finish(r, item)
}

/// Marks a type as a thread context (in addition to `ThreadContext` and `ThreadId`).
///
/// ```
/// #[threadlint_macros::context]
/// pub struct ConversationCtx {
///     pub conversation_id: u64,
/// }
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn context(args: TokenStream, item: TokenStream) -> TokenStream {
    let r = no_args("context", args).and_then(|()| {
        let tokens = TokenStream2::from(item.clone());
        match syn::parse2::<syn::Item>(tokens.clone()) {
            Ok(syn::Item::Struct(_) | syn::Item::Enum(_) | syn::Item::Type(_)) => Ok(()),
            _ => Err(Error::new(
                item_span(&tokens),
                "`#[context]` goes on a struct, an enum or a type alias",
            )),
        }
    });
    finish(r, item)
}

/// Declares that a function forwards its parameter `ctx` (of any type) as the thread context.
///
/// ```
/// #[threadlint_macros::propagates(conversation)]
/// fn relay(conversation: u64, text: &str) -> String {
///     format!("{conversation}: {text}")
/// }
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn propagates(args: TokenStream, item: TokenStream) -> TokenStream {
    let r = (|| {
        let args2 = TokenStream2::from(args);
        let param: syn::Ident = syn::ext::IdentExt::parse_any
            .parse2(args2.clone())
            .map_err(|_| {
                Error::new(
                args2.span(),
                "`#[propagates]` takes the name of the parameter it forwards: `#[propagates(ctx)]`",
            )
            })?;
        let sig = function("propagates", &item)?;
        let names: Vec<String> = sig
            .inputs
            .iter()
            .filter_map(|a| match a {
                syn::FnArg::Typed(pt) => match &*pt.pat {
                    syn::Pat::Ident(pi) => Some(pi.ident.to_string()),
                    _ => None,
                },
                syn::FnArg::Receiver(_) => Some("self".into()),
            })
            .collect();
        if names.iter().any(|n| param == n) {
            return Ok(());
        }
        let expected = if names.is_empty() {
            format!("`{}` has no parameters", sig.ident)
        } else {
            format!(
                "its parameters are {}",
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        Err(Error::new(
            param.span(),
            format!(
                "`{}` has no parameter named `{param}`; {expected}",
                sig.ident
            ),
        ))
    })();
    finish(r, item)
}

/// The known codes for an error message: `TP001 … TP010` (the first and the last of
/// [`Code::ALL`], which has no gaps).
fn known_codes() -> String {
    match Code::ALL {
        [] => String::new(),
        [only] => only.as_str().to_owned(),
        [first, .., last] => format!("{} … {}", first.as_str(), last.as_str()),
    }
}

/// The arguments of `allow`: rule codes, then `reason = "…"`.
struct AllowArgs {
    codes: Vec<syn::Ident>,
    reason: Option<syn::LitStr>,
}

impl Parse for AllowArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut codes = Vec::new();
        let mut reason = None;
        let items = Punctuated::<syn::Meta, Token![,]>::parse_terminated(input)?;
        for m in items {
            match m {
                syn::Meta::Path(p) => {
                    let id = p
                        .get_ident()
                        .cloned()
                        .ok_or_else(|| Error::new(p.span(), "expected a rule code like `TP001`"))?;
                    // Spelled exactly: threadlint reads `TP001` from source, not `tp001`.
                    let name = id.to_string();
                    if Code::parse(&name).filter(|c| c.as_str() == name).is_none() {
                        return Err(Error::new(
                            id.span(),
                            format!(
                                "`{id}` is not a threadlint rule; expected one of {}",
                                known_codes()
                            ),
                        ));
                    }
                    codes.push(id);
                }
                syn::Meta::NameValue(nv) if nv.path.is_ident("reason") => match &nv.value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) if !s.value().trim().is_empty() => reason = Some(s.clone()),
                    other => {
                        return Err(Error::new(
                            other.span(),
                            "the reason must be a non-empty string: `reason = \"why\"`",
                        ))
                    }
                },
                other => {
                    return Err(Error::new(
                        other.span(),
                        "unknown argument; expected rule codes and `reason = \"…\"`",
                    ))
                }
            }
        }
        Ok(AllowArgs { codes, reason })
    }
}

/// Suppresses the named rules on this item. A reason is required.
///
/// ```
/// #[threadlint_macros::allow(TP003, reason = "metrics are not per conversation")]
/// fn spawn_metrics() {}
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn allow(args: TokenStream, item: TokenStream) -> TokenStream {
    let args2 = TokenStream2::from(args);
    let span = args2.span();
    let r = AllowArgs::parse.parse2(args2).and_then(|a| {
        if a.codes.is_empty() {
            return Err(Error::new(
                span,
                "`#[allow]` needs the rules to allow: `#[allow(TP001, reason = \"…\")]`",
            ));
        }
        if a.reason.is_none() {
            return Err(Error::new(
                a.codes.last().map_or(span, |c| c.span()),
                "`#[allow]` needs a reason: add `reason = \"why this is fine\"`",
            ));
        }
        Ok(())
    });
    finish(r, item)
}
