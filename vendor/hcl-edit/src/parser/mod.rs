//! An HCL parser which keeps track of whitespace, comments and span information.

mod error;
mod expr;
mod nesting;
mod number;
mod pratt;
mod repr;
mod state;
mod string;
mod structure;
mod template;
#[cfg(test)]
mod tests;
mod trivia;

pub use self::error::{Error, Location};
use self::expr::root_expr;
use self::structure::body;
use self::template::template;
use crate::expr::Expression;
use crate::structure::Body;
use crate::template::Template;

mod prelude {
    pub(super) use winnow::error::{ContextError, StrContext, StrContextValue};
    pub(super) use winnow::stream::Stream;
    pub(super) use winnow::{dispatch, ModalParser, ModalResult, Parser};

    pub(super) type Input<'a> =
        winnow::stream::Stateful<winnow::stream::LocatingSlice<&'a str>, NestingState>;

    use super::nesting::NestingState;

    /// Creates a new parser input from `s`.
    pub(super) fn new_input(s: &str) -> Input<'_> {
        Input {
            input: winnow::stream::LocatingSlice::new(s),
            state: NestingState::default(),
        }
    }
}

use self::prelude::*;

/// Parse an input into a [`Body`].
///
/// # Errors
///
/// Returns an error if the input does not resemble a valid HCL body.
pub fn parse_body(input: &str) -> Result<Body, Error> {
    let mut body = parse_complete(input, body)?;
    body.despan(input);
    Ok(body)
}

/// Parse an input into a [`Body`] whose attribute values are placeholders (terrane patch).
///
/// The input is parsed exactly as [`parse_body`] parses it, with the same errors, but the
/// value of every attribute, at any depth, for which `keep` is false is dropped as soon as it
/// is parsed and replaced by a `null` expression carrying the value's span. The syntax trees
/// of all values never exist at once; [`parse_expr_at`] builds one from its span when it is
/// needed.
///
/// # Errors
///
/// Returns an error if the input does not resemble a valid HCL body.
pub fn parse_body_outline(input: &str, keep: fn(&Expression) -> bool) -> Result<Body, Error> {
    let mut stream = new_input(input);
    stream.state.outline = Some(keep);
    let mut body = body.parse(stream).map_err(|err| Error::from_parse_error(&err))?;
    body.despan(input);
    Ok(body)
}

/// [`parse_body_outline`] of `input[start..]` (terrane patch), spans (and the error's offset)
/// relative to `input`: one piece of a body split at the start of a line between two
/// structures.
///
/// # Errors
///
/// Returns an error if `input[start..]` does not resemble a valid HCL body.
pub fn parse_body_outline_at(
    input: &str,
    start: usize,
    keep: fn(&Expression) -> bool,
) -> Result<Body, Error> {
    let mut stream = new_input(input);
    let _ = stream.next_slice(start);
    stream.state.outline = Some(keep);
    let mut body = body
        .parse(stream)
        .map_err(|err| Error::from_parse_error(&err).offset_by(start))?;
    body.despan(input);
    Ok(body)
}

/// Parse the expression that makes up `input[start..]` (terrane patch).
///
/// Spans in the result are offsets into `input`, as if `input` had been parsed as a whole; so
/// is the error's [`Location::offset`] (its line and column count from `start`).
///
/// # Errors
///
/// Returns an error if `input[start..]` does not resemble a valid HCL expression.
pub fn parse_expr_at(input: &str, start: usize) -> Result<Expression, Error> {
    let mut stream = new_input(input);
    let _ = stream.next_slice(start);
    let mut expr = root_expr
        .parse(stream)
        .map_err(|err| Error::from_parse_error(&err).offset_by(start))?;
    expr.despan(input);
    Ok(expr)
}

/// Parse an input into an [`Expression`].
///
/// # Errors
///
/// Returns an error if the input does not resemble a valid HCL expression.
pub fn parse_expr(input: &str) -> Result<Expression, Error> {
    let mut expr = parse_complete(input, root_expr)?;
    expr.despan(input);
    Ok(expr)
}

/// Parse an input into a [`Template`].
///
/// # Errors
///
/// Returns an error if the input does not resemble a valid HCL template.
pub fn parse_template(input: &str) -> Result<Template, Error> {
    let mut template = parse_complete(input, template)?;
    template.despan(input);
    Ok(template)
}

fn parse_complete<'a, P, O>(input: &'a str, mut parser: P) -> Result<O, Error>
where
    P: ModalParser<Input<'a>, O, ContextError>,
{
    let input = new_input(input);

    parser
        .parse(input)
        .map_err(|err| Error::from_parse_error(&err))
}
