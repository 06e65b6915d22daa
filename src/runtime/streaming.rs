//! A streamed reply shown while it arrives: after each piece, the text so
//! far is read as the step's type ([`reading::partial`]) and a changed
//! value is sent as a `step_partial` event, each field marked complete or
//! still arriving. The text is read again only once it has grown by an
//! eighth, so a long stream costs a constant times its length, not its
//! square. What the step finally takes is read from the whole reply, as
//! without a stream.

use super::events::{Event, Events};
use super::reading;
use crate::plan::types::{Type, Types};
use crate::providers::blank;
use crate::providers::http::StreamReader;
use crate::providers::Provider;

pub struct Watch<'w> {
    events: &'w Events,
    id: &'w str,
    ty: &'w Type,
    types: &'w Types,
    /// Never shown, as in the final reply.
    secret: Option<&'w str>,
    reader: StreamReader<'w>,
    /// The text's length when it was last read.
    read_at: usize,
    last: Option<reading::Partial>,
}

impl<'w> Watch<'w> {
    pub fn new(
        events: &'w Events,
        (id, ty, types): (&'w str, &'w Type, &'w Types),
        provider: &'w dyn Provider,
        secret: Option<&'w str>,
    ) -> Self {
        Watch {
            events,
            id,
            ty,
            types,
            secret,
            reader: StreamReader::new(provider),
            read_at: 0,
            last: None,
        }
    }

    /// One more piece of the body.
    pub fn chunk(&mut self, bytes: &[u8]) {
        // A broken event is the final reading's to report.
        if self.reader.feed(bytes).is_err() {
            return;
        }
        let length = self.reader.text().len();
        if length == 0 || length < self.read_at + (self.read_at / 8).max(1) {
            return;
        }
        self.read_at = length;
        let text = match self.secret {
            Some(secret) => blank(self.reader.text(), secret),
            None => self.reader.text().to_string(),
        };
        let Some(partial) = reading::partial(&text, self.ty, self.types) else {
            return;
        };
        if self.last.as_ref() == Some(&partial) {
            return;
        }
        self.events.send(Event::StepPartial {
            id: self.id,
            value: &partial.value,
            fields: &partial.fields,
        });
        self.last = Some(partial);
    }
}
