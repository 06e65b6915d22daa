//! `spesc lsp`: a language server over stdio. Diagnostics for every open
//! file on open, change and save (cleared when fixed), hover (a name's
//! declaration and doc comment), go to definition, and formatting
//! (`spesc fmt`'s layout).
//!
//! The transport is rust-analyzer's `lsp-server`; the checker runs on the
//! text the editor holds, with files it imports read from open documents
//! first, then from disk.

mod convert;
mod symbols;
mod transport;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use lsp_server::{Connection, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
    Notification as _, PublishDiagnostics,
};
use lsp_types::request::{Formatting, GotoDefinition, HoverRequest, Request as _};
use lsp_types::{
    DocumentFormattingParams, GotoDefinitionParams, HoverParams, HoverProviderCapability, OneOf,
    PublishDiagnosticsParams, ServerCapabilities, TextDocumentSyncCapability, TextDocumentSyncKind,
    Uri,
};
use serde_json::Value;

use crate::check::Loader;
use crate::source::SourceMap;

/// Serves one editor over stdin and stdout until it says `exit`.
pub fn serve() -> Result<(), String> {
    let (connection, threads) = transport::stdio();
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    };
    let capabilities = serde_json::to_value(capabilities).map_err(|e| e.to_string())?;
    connection
        .initialize(capabilities)
        .map_err(|e| format!("the editor did not initialize: {e}"))?;
    Server::default().main_loop(&connection)?;
    drop(connection);
    // The reader may be blocked on stdin after `exit`; only the writer,
    // which flushes the last replies, is waited for.
    let [_reader, writer] = threads;
    writer
        .join()
        .map_err(|_| "the connection to the editor broke".to_string())
}

/// The documents the editor has open, by path.
#[derive(Default)]
struct Server {
    open: HashMap<PathBuf, (Uri, String)>,
}

impl Server {
    fn main_loop(&mut self, connection: &Connection) -> Result<(), String> {
        for message in &connection.receiver {
            match message {
                Message::Request(request) => {
                    if connection
                        .handle_shutdown(&request)
                        .map_err(|e| e.to_string())?
                    {
                        return Ok(());
                    }
                    let response = self.answer(request);
                    send(connection, Message::Response(response))?;
                }
                Message::Notification(notification) => {
                    for published in self.notice(notification) {
                        send(connection, Message::Notification(published))?;
                    }
                }
                Message::Response(_) => {}
            }
        }
        Ok(())
    }

    fn answer(&self, request: Request) -> Response {
        let result = match request.method.as_str() {
            HoverRequest::METHOD => serde_json::from_value::<HoverParams>(request.params)
                .map(|p| self.hover(&p))
                .map_err(|e| e.to_string()),
            GotoDefinition::METHOD => {
                serde_json::from_value::<GotoDefinitionParams>(request.params)
                    .map(|p| self.definition(&p))
                    .map_err(|e| e.to_string())
            }
            Formatting::METHOD => {
                serde_json::from_value::<DocumentFormattingParams>(request.params)
                    .map(|p| self.formatting(&p.text_document.uri))
                    .map_err(|e| e.to_string())
            }
            other => {
                return Response::new_err(
                    request.id,
                    lsp_server::ErrorCode::MethodNotFound as i32,
                    format!("spesc lsp does not answer `{other}`"),
                )
            }
        };
        match result {
            Ok(value) => Response::new_ok(request.id, value),
            Err(message) => Response::new_err(
                request.id,
                lsp_server::ErrorCode::InvalidParams as i32,
                message,
            ),
        }
    }

    /// Keeps the editor's text and answers with fresh diagnostics for
    /// every open document (an edit may fix or break a file importing it).
    fn notice(&mut self, notification: Notification) -> Vec<Notification> {
        let params = notification.params;
        let uri_of = |params: &Value| {
            params["textDocument"]["uri"]
                .as_str()
                .and_then(|u| u.parse::<Uri>().ok())
        };
        let Some(uri) = uri_of(&params) else {
            return Vec::new();
        };
        let Some(path) = convert::path_of(&uri) else {
            return Vec::new();
        };
        match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let text = params["textDocument"]["text"].as_str().unwrap_or_default();
                self.open.insert(path, (uri, text.to_string()));
            }
            DidChangeTextDocument::METHOD => {
                // Full sync: the last change holds the whole text.
                let changes = params["contentChanges"].as_array();
                if let Some(text) = changes
                    .and_then(|c| c.last())
                    .and_then(|c| c["text"].as_str())
                {
                    self.open.insert(path, (uri, text.to_string()));
                }
            }
            DidSaveTextDocument::METHOD => {}
            DidCloseTextDocument::METHOD => {
                self.open.remove(&path);
                return vec![publish(uri, Vec::new())];
            }
            _ => return Vec::new(),
        }
        self.open
            .iter()
            .map(|(path, (uri, text))| publish(uri.clone(), self.diagnose(path, text)))
            .collect()
    }

    /// The checker's diagnostics for the document at `path`.
    fn diagnose(&self, path: &Path, text: &str) -> Vec<lsp_types::Diagnostic> {
        let mut sources = SourceMap::new();
        let file = sources.add(path.display().to_string(), text.to_string());
        let diagnostics = crate::check::check(
            &mut sources,
            &[(file, path.to_path_buf())],
            self,
            &Default::default(),
        )
        .diagnostics;
        diagnostics
            .iter()
            .filter_map(|d| convert::diagnostic(d, file, &sources, &self.uris()))
            .collect()
    }

    fn uris(&self) -> HashMap<String, Uri> {
        self.open
            .iter()
            .map(|(path, (uri, _))| (path.display().to_string(), uri.clone()))
            .collect()
    }

    fn hover(&self, params: &HoverParams) -> Value {
        let at = &params.text_document_position_params;
        let found = self.symbol(&at.text_document.uri, at.position);
        match found {
            Some((symbol, _, _)) => serde_json::json!({
                "contents": {"kind": "markdown", "value": symbol.hover()},
            }),
            None => Value::Null,
        }
    }

    fn definition(&self, params: &GotoDefinitionParams) -> Value {
        let at = &params.text_document_position_params;
        match self.symbol(&at.text_document.uri, at.position) {
            Some((symbol, uri, text)) => serde_json::json!({
                "uri": uri.as_str(),
                "range": convert::range(&text, symbol.span.start as usize, symbol.span.end as usize),
            }),
            None => Value::Null,
        }
    }

    /// The whole document in `spesc fmt`'s layout, as one edit; none when
    /// it does not parse or is formatted already.
    fn formatting(&self, uri: &Uri) -> Value {
        let Some((_, text)) = convert::path_of(uri).and_then(|p| self.open.get(&p)) else {
            return Value::Null;
        };
        let parsed = crate::syntax::parse(crate::source::FileId(0), text);
        if parsed.has_errors() {
            return Value::Null;
        }
        let formatted = crate::syntax::format::format(&parsed.file, text);
        if &formatted == text {
            return serde_json::json!([]);
        }
        serde_json::json!([{"range": convert::range(text, 0, text.len()), "newText": formatted}])
    }

    /// The declaration of the name at `position` in the document `uri`.
    fn symbol(
        &self,
        uri: &Uri,
        position: lsp_types::Position,
    ) -> Option<(symbols::Symbol, Uri, String)> {
        let path = convert::path_of(uri)?;
        let (_, text) = self.open.get(&path)?;
        let offset = convert::offset(text, position);
        let parsed = crate::syntax::parse(crate::source::FileId(0), text);
        let symbol = symbols::find(&parsed.file, text, offset)?;
        Some((symbol, uri.clone(), text.clone()))
    }
}

/// Imports come from open documents first, then from disk.
impl Loader for Server {
    fn read(&self, path: &Path) -> Result<(String, String), String> {
        let name = path.display().to_string();
        if let Some((_, text)) = self.open.get(path) {
            return Ok((name, text.clone()));
        }
        let text = crate::files::read_text(path, crate::files::SOURCE_LIMIT)?;
        Ok((name, text))
    }
}

fn publish(uri: Uri, diagnostics: Vec<lsp_types::Diagnostic>) -> Notification {
    Notification::new(
        PublishDiagnostics::METHOD.to_string(),
        PublishDiagnosticsParams {
            uri,
            diagnostics,
            version: None,
        },
    )
}

fn send(connection: &Connection, message: Message) -> Result<(), String> {
    connection
        .sender
        .send(message)
        .map_err(|e| format!("the editor went away: {e}"))
}
