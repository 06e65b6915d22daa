//! `test` blocks: run a workflow offline with canned step outputs and
//! check what came out.

use std::collections::HashMap;
use std::rc::Rc;

use serde_json::{Map, Value};

use super::engine::Engine;
use super::frame::{Env, Frame};
use super::limits::Caps;
use super::{Fault, RunOptions};
use crate::lang::value::{render, truthy};
use crate::plan::{Plan, Test};

/// How one test went.
#[derive(Clone, Debug, PartialEq)]
pub struct TestOutcome {
    pub name: String,
    /// `None`: passed; otherwise what went wrong, in words.
    pub failure: Option<String>,
}

/// Runs every `test` block of a plan (those of the files it was made
/// from).
pub fn run_tests(plan: &Plan) -> Vec<TestOutcome> {
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
    plan.tests
        .iter()
        .map(|test| TestOutcome {
            name: test.name.clone(),
            failure: runtime.block_on(one(plan, test)).err(),
        })
        .collect()
}

async fn one(plan: &Plan, test: &Test) -> Result<(), String> {
    // `run` arguments and `given` values are evaluated up front, with
    // nothing bound.
    let setup_options = RunOptions::default();
    let setup = Engine::new(plan, &setup_options);
    let nothing = test_env(test, Value::Null);
    let mut inputs = Map::new();
    for (name, arg) in &test.args {
        let value = setup.eval(arg, &nothing).await.map_err(|f| f.describe())?;
        inputs.insert(name.clone(), value);
    }
    let mut given = HashMap::new();
    for (step, value) in &test.given {
        let value = setup
            .eval(value, &nothing)
            .await
            .map_err(|f| f.describe())?;
        given.insert(step.clone(), value);
    }
    let options = RunOptions {
        given,
        // Tests run offline: every model is answered by the mock.
        mock_all: true,
        ..RunOptions::default()
    };
    let engine = Engine::new(plan, &options);
    let output = engine
        .run_workflow(test.workflow, String::new(), inputs, &Caps::default())
        .await
        .map_err(|stop| format!("the run stopped: {}", Fault::Stop(stop).describe()))?;
    let with_output = test_env(test, output.clone());
    for expectation in &test.expect {
        let value = engine
            .eval(&expectation.condition, &with_output)
            .await
            .map_err(|f| f.describe())?;
        if !truthy(&value) {
            return Err(format!(
                "expected `{}`, but it is false (output: {})",
                expectation.text,
                render(&output)
            ));
        }
    }
    Ok(())
}

/// Where a test's expressions are evaluated: `output` bound.
fn test_env(test: &Test, output: Value) -> Env {
    let mut vars = Map::new();
    vars.insert("output".to_string(), output);
    Env::new(
        Frame::root(test.workflow, "", vars, Rc::new(Caps::default())),
        "",
    )
}
