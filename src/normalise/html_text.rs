//! HTML fragments (feed titles and descriptions) to plain text, through html5ever's
//! tokenizer: the text of the fragment with entities decoded, script and style bodies
//! dropped, an image's alt text kept, and a space wherever a block element (paragraph,
//! list item, table cell, line break…) begins or ends, so words of adjacent blocks never
//! run together. Whitespace is collapsed afterwards by the caller.
//!
//! Stories keep only one line of text, so no layout is needed: no tree is built and
//! nothing is wrapped. This gives the text a full DOM-and-layout renderer (html2text,
//! which tidings used before) gives for the fragments news feeds carry, at a fraction
//! of its cost; `tests/html_text.rs` checks that on every entry of the shared real feed
//! captures.

use std::cell::{Cell, RefCell};

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

/// The text of an HTML fragment, whitespace not yet collapsed.
pub fn text_of(html: &str) -> String {
    let sink = TextSink {
        out: RefCell::new(String::with_capacity(html.len())),
        skipping: Cell::new(false),
    };
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    // The sink never asks the tokenizer to pause for a script, so one feed takes all.
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.out.take()
}

/// Collects character tokens; see the module docs for what else it keeps.
struct TextSink {
    out: RefCell<String>,
    /// Inside an element whose content is not text for a reader (script, style, title).
    skipping: Cell<bool>,
}

impl TokenSink for TextSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line_number: u64) -> TokenSinkResult<()> {
        match token {
            Token::CharacterTokens(text) => {
                if !self.skipping.get() {
                    self.out.borrow_mut().push_str(&text);
                }
            }
            Token::TagToken(tag) => return self.tag(&tag),
            Token::DoctypeToken(_)
            | Token::CommentToken(_)
            | Token::NullCharacterToken
            | Token::EOFToken
            | Token::ParseError(_) => {}
        }
        TokenSinkResult::Continue
    }
}

impl TextSink {
    fn tag(&self, tag: &Tag) -> TokenSinkResult<()> {
        let name: &str = &tag.name;
        if tag.kind == TagKind::EndTag {
            // In a raw-text state the tokenizer's only tag is the element's own end tag.
            self.skipping.set(false);
            if is_block(name) {
                self.out.borrow_mut().push(' ');
            }
            return TokenSinkResult::Continue;
        }
        // The content models the HTML tree builder would switch the tokenizer to: without
        // them, `if (a<b)` in a script would read as a tag, and a script's text as words.
        let raw = match name {
            "script" => Some((RawKind::ScriptData, true)),
            "style" | "xmp" | "iframe" | "noembed" | "noframes" => Some((RawKind::Rawtext, true)),
            "title" => Some((RawKind::Rcdata, true)),
            "textarea" => Some((RawKind::Rcdata, false)),
            _ => None,
        };
        if let Some((kind, skip)) = raw {
            if !tag.self_closing {
                self.skipping.set(skip);
                return TokenSinkResult::RawData(kind);
            }
            return TokenSinkResult::Continue;
        }
        let mut out = self.out.borrow_mut();
        if name == "img" {
            if let Some(alt) = tag.attrs.iter().find(|a| &*a.name.local == "alt") {
                out.push_str(&alt.value);
            }
        } else if is_block(name) {
            out.push(' ');
        }
        TokenSinkResult::Continue
    }
}

/// Elements that start a new line (or cell) when rendered: their text never joins the
/// text before or after them into one word.
fn is_block(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "br"
            | "caption"
            | "dd"
            | "details"
            | "dialog"
            | "div"
            | "dl"
            | "dt"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "header"
            | "hr"
            | "li"
            | "main"
            | "nav"
            | "ol"
            | "p"
            | "pre"
            | "section"
            | "summary"
            | "table"
            | "tbody"
            | "td"
            | "tfoot"
            | "th"
            | "thead"
            | "tr"
            | "ul"
    )
}

#[cfg(test)]
mod tests {
    use super::text_of;
    use crate::normalise::collapse_whitespace;

    fn plain(html: &str) -> String {
        collapse_whitespace(&text_of(html))
    }

    #[test]
    fn blocks_separate_words_and_inline_elements_do_not() {
        assert_eq!(plain("<p>One</p><p>two</p>"), "One two");
        assert_eq!(plain("line<br>break<br/>again"), "line break again");
        assert_eq!(plain("<ul><li>a</li><li>b</li></ul>"), "a b");
        assert_eq!(
            plain("<b>bold</b>face and <a href=\"x\">link</a>s"),
            "boldface and links"
        );
        assert_eq!(
            plain("<table><tr><td>cell</td><td>next</td></tr></table>"),
            "cell next"
        );
    }

    #[test]
    fn entities_are_decoded_and_scripts_styles_titles_dropped() {
        assert_eq!(
            plain("Caf&eacute; &amp; bar&nbsp;&#8220;x&#8221;"),
            "Café & bar “x”"
        );
        assert_eq!(
            plain("<script>if (a<b) { document.write('<p>x</p>') }</script>News"),
            "News"
        );
        assert_eq!(plain("<style>p { color: red }</style>Text"), "Text");
        assert_eq!(plain("<title>Page</title>Body"), "Body");
        assert_eq!(
            plain("<textarea>kept <b>as text</b></textarea>"),
            "kept <b>as text</b>"
        );
        assert_eq!(plain("<!-- note -->after<!DOCTYPE html>"), "after");
    }

    #[test]
    fn images_give_their_alt_text() {
        assert_eq!(
            plain("Seen <img src=\"a.jpg\" alt=\"Wang Yi\"> today <img src=\"b.jpg\">"),
            "Seen Wang Yi today"
        );
    }

    #[test]
    fn broken_markup_still_gives_its_text() {
        assert_eq!(plain("<p>unclosed <b>bold"), "unclosed bold");
        assert_eq!(plain("a < b and c > d"), "a < b and c > d");
        assert_eq!(plain("<script>never closed"), "");
        assert_eq!(plain("</p>stray end"), "stray end");
        assert_eq!(plain("<"), "<");
    }
}
