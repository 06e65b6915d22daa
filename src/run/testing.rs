//! `test` blocks: run a workflow offline with canned step outputs and
//! check what came out.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::engine::Engine;
use super::eval::Fault;
use super::value::{render, truthy};
use super::{RunOptions, Stop};
use crate::check::Compiled;
use crate::check::Loader;
use crate::syntax::ast::{Item, TestDecl, TestStmt};
use crate::syntax::print;

/// How one test went.
#[derive(Clone, Debug, PartialEq)]
pub struct TestOutcome {
    pub name: String,
    /// `None`: passed; otherwise what went wrong, in words.
    pub failure: Option<String>,
}

/// Runs every `test` block of the compiled program's first file.
pub fn run_tests(compiled: &Compiled, loader: &dyn Loader) -> Vec<TestOutcome> {
    let Some(plan) = &compiled.plan else {
        return Vec::new();
    };
    let tests: Vec<&TestDecl> = compiled
        .program
        .files
        .first()
        .into_iter()
        .flat_map(|f| &f.ast.items)
        .filter_map(|item| match item {
            Item::Test(t) => Some(t),
            _ => None,
        })
        .collect();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .enable_io()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            return vec![TestOutcome {
                name: "(runtime)".to_string(),
                failure: Some(format!("cannot start the runtime: {e}")),
            }];
        }
    };
    tests
        .into_iter()
        .map(|test| {
            let failure = runtime.block_on(one(compiled, plan, loader, test)).err();
            TestOutcome {
                name: test.name.value.clone(),
                failure,
            }
        })
        .collect()
}

async fn one(
    compiled: &Compiled,
    plan: &crate::plan::Plan,
    loader: &dyn Loader,
    test: &TestDecl,
) -> Result<(), String> {
    let Some((workflow, args)) = test.body.iter().find_map(|s| match s {
        TestStmt::Run { workflow, args, .. } => Some((workflow.name.as_str(), args)),
        _ => None,
    }) else {
        return Err("the test has no `run`".to_string());
    };
    // `run` arguments and `given` values are evaluated up front.
    let no_options = RunOptions::default();
    let setup = Engine::new(&compiled.program, plan, loader, &no_options, 1);
    let words = |fault: Fault| match fault {
        Fault::Error(e) | Fault::Retryable { message: e, .. } => e,
        Fault::Stop(stop) => describe(&stop),
    };
    let mut inputs = Map::new();
    for arg in args {
        if let Some(name) = &arg.name {
            let value = setup
                .eval_in_test(&arg.value, workflow, Value::Null)
                .await
                .map_err(words)?;
            inputs.insert(name.name.clone(), value);
        }
    }
    let mut given = HashMap::new();
    for stmt in &test.body {
        if let TestStmt::Given { step, value, .. } = stmt {
            let value = setup
                .eval_in_test(value, workflow, Value::Null)
                .await
                .map_err(words)?;
            given.insert(step.name.clone(), value);
        }
    }
    let options = RunOptions {
        answers: HashMap::new(),
        given,
        // Tests run offline: every model is answered by the mock.
        mock_all: true,
        ..RunOptions::default()
    };
    let engine = Engine::new(&compiled.program, plan, loader, &options, 8);
    let inputs = engine
        .with_defaults(workflow, inputs)
        .await
        .map_err(words)?;
    let output = engine
        .run_workflow(workflow, inputs)
        .await
        .map_err(|stop| format!("the run stopped: {}", describe(&stop)))?;
    for stmt in &test.body {
        if let TestStmt::Expect { condition, .. } = stmt {
            let value = engine
                .eval_in_test(condition, workflow, output.clone())
                .await
                .map_err(words)?;
            if !truthy(&value) {
                return Err(format!(
                    "expected `{}`, but it is false (output: {})",
                    print::expr(condition),
                    render(&output)
                ));
            }
        }
    }
    Ok(())
}

fn describe(stop: &Stop) -> String {
    match stop {
        Stop::Failed { step, error } => format!("step `{step}` failed: {error}"),
        Stop::Waiting { step, .. } => format!("step `{step}` waits for a person"),
    }
}
