//! What each grammar rule is called in an error message. Users never see a
//! rule name: this match is exhaustive, so a new rule does not compile until
//! it has a phrase.

use super::parser::Rule;

/// The phrase for "expected …", or `None` for rules that are never worth
/// naming (their parent already says it better).
pub(super) fn phrase(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "end of file",
        Rule::infix_start => "an operator",
        Rule::COMMENT | Rule::doc_line | Rule::RESERVED => return None,
        Rule::doc => "a doc comment",
        Rule::ident | Rule::word | Rule::fn_name | Rule::name => "a name",
        Rule::IMPORT => "`import`",
        Rule::TYPE => "`type`",
        Rule::ENUM => "`enum`",
        Rule::MODEL => "`model`",
        Rule::RETRY => "`retry`",
        Rule::COMPONENT => "`component`",
        Rule::AGENT => "`agent`",
        Rule::WORKFLOW => "`workflow`",
        Rule::TEST => "`test`",
        Rule::STEP => "`step`",
        Rule::LET => "`let`",
        Rule::LOOP => "`loop`",
        Rule::UNTIL => "`until`",
        Rule::RETURN => "`return`",
        Rule::MATCH => "`match`",
        Rule::ALIAS => "`alias`",
        Rule::FOR => "`for`",
        Rule::IN => "`in`",
        Rule::IF => "`if`",
        Rule::ELSE => "`else`",
        Rule::END => "`end`",
        Rule::CALL => "`call`",
        Rule::EXEC => "`exec`",
        Rule::FETCH => "`fetch`",
        Rule::ASK => "`ask`",
        Rule::DEFAULT => "`default`",
        Rule::FILE_KW => "`file`",
        Rule::RUN => "`run`",
        Rule::GIVEN => "`given`",
        Rule::EXPECT => "`expect`",
        Rule::PROMPT => "`prompt`",
        Rule::SYSTEM => "`system`",
        Rule::CONTEXT => "`context`",
        Rule::TIMEOUT => "`timeout`",
        Rule::DEADLINE => "`deadline`",
        Rule::CHECK => "`check`",
        Rule::WHEN => "`when`",
        Rule::ON_ERROR => "`on_error`",
        Rule::COMPENSATE => "`compensate`",
        Rule::AFTER => "`after`",
        Rule::CACHE => "`cache`",
        Rule::MAX_CONCURRENCY => "`max_concurrency`",
        Rule::SUMMARIZED => "`summarized`",
        Rule::duration => "a duration",
        Rule::percentage => "a percentage",
        Rule::float | Rule::int => "a number",
        Rule::boolean => "`true` or `false`",
        Rule::string | Rule::line_string | Rule::triple_string => "a string",
        Rule::line_text | Rule::triple_text | Rule::plain_char | Rule::escape => "text",
        Rule::interpolation => "`{{`",
        Rule::tag => "`{%`",
        Rule::tag_if | Rule::tag_for | Rule::tag_else | Rule::tag_end => {
            "`if`, `for`, `else` or `end`"
        }
        Rule::type_expr | Rule::type_atom | Rule::map_type => "a type",
        Rule::type_suffix => "`[]` or `?`",
        Rule::expr | Rule::paren | Rule::list | Rule::record => "an expression",
        Rule::op_or
        | Rule::op_and
        | Rule::op_eq
        | Rule::op_ne
        | Rule::op_le
        | Rule::op_ge
        | Rule::op_lt
        | Rule::op_gt
        | Rule::op_coalesce
        | Rule::op_add
        | Rule::op_sub
        | Rule::op_mul
        | Rule::op_div
        | Rule::op_mod => "an operator",
        Rule::op_not | Rule::op_neg => "an expression",
        Rule::field_access => "`.`",
        Rule::index => "`[`",
        Rule::record_field => "a record field (`name: value`)",
        Rule::fn_call => "a function call",
        Rule::args | Rule::arg | Rule::arg_list => "an argument",
        Rule::if_expr => "`if`",
        Rule::match_expr => "`match`",
        Rule::match_arm => "a match arm (`pattern => value`)",
        Rule::pattern | Rule::wildcard => "a pattern",
        Rule::for_expr => "`for`",
        Rule::block => "a block",
        Rule::step_stmt | Rule::let_stmt | Rule::loop_stmt | Rule::statement_entry => {
            "a statement (`step`, `let` or `loop`)"
        }
        Rule::call_action | Rule::exec_action | Rule::fetch_action | Rule::ask_action => {
            "`call`, `exec`, `fetch` or `ask`"
        }
        Rule::bad_action => "a step action",
        Rule::until_clause => "`until`",
        Rule::return_stmt => "`return`",
        Rule::clause_block => "a clause block (`{ … }`)",
        Rule::action_block => "an action block (`{ key = value … }`)",
        Rule::model_clause
        | Rule::agent_clause
        | Rule::prompt_clause
        | Rule::system_clause
        | Rule::context_clause
        | Rule::retry_clause
        | Rule::timeout_clause
        | Rule::deadline_clause
        | Rule::check_clause
        | Rule::when_clause
        | Rule::on_error_clause
        | Rule::compensate_clause
        | Rule::after_clause
        | Rule::cache_clause
        | Rule::unknown_clause
        | Rule::clause_entry => "a step clause",
        Rule::model_chain | Rule::model_chain_alt => "a model name",
        Rule::context_fresh
        | Rule::context_all
        | Rule::context_summarized
        | Rule::context_steps => "`fresh`, `all`, `summarized(…)` or a list of steps",
        Rule::settings => "a settings block (`{ key = value }`)",
        Rule::setting => "a setting (`key = value`)",
        Rule::file | Rule::item_entry => "a declaration",
        Rule::import_decl => "`import`",
        Rule::type_decl => "`type`",
        Rule::field_decl => "a field (`name: type`)",
        Rule::alias => "an alias (`alias \"name\"`)",
        Rule::alias_missing => "an alias without its name",
        Rule::enum_decl => "`enum`",
        Rule::variant => "an enum variant",
        Rule::model_decl => "`model`",
        Rule::retry_decl => "`retry`",
        Rule::agent_decl => "`agent`",
        Rule::component_decl => "`component`",
        Rule::component_file => "`file(\"…\")` or a string",
        Rule::workflow_decl => "`workflow`",
        Rule::params | Rule::param => "a parameter (`name: type`)",
        Rule::workflow_setting | Rule::wf_deadline | Rule::wf_max_concurrency => {
            "a workflow setting"
        }
        Rule::test_decl => "`test`",
        Rule::test_run | Rule::test_given | Rule::test_expect | Rule::test_stmt_entry => {
            "`run`, `given` or `expect`"
        }
        // Silent helpers and recovery rules never stand for what was expected.
        Rule::WHITESPACE
        | Rule::IDENT_START
        | Rule::IDENT_CHAR
        | Rule::DECL_START
        | Rule::DECL_HEAD
        | Rule::digits
        | Rule::exponent
        | Rule::line_part
        | Rule::triple_part
        | Rule::infix
        | Rule::prefix
        | Rule::postfix
        | Rule::primary
        | Rule::statement
        | Rule::block_value
        | Rule::step_action
        | Rule::clause
        | Rule::known_clause
        | Rule::action_member
        | Rule::context_strategy
        | Rule::setting_value
        | Rule::item
        | Rule::test_stmt
        | Rule::recover_token
        | Rule::recover_string
        | Rule::recover_line
        | Rule::recover_item => return None,
    })
}
