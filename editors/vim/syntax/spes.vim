" Vim syntax file
" Language: spes (spesc workflow files)
if exists("b:current_syntax")
  finish
endif

syn keyword spesDeclaration type enum model retry component agent workflow test nextgroup=spesDeclName skipwhite
syn keyword spesStep step nextgroup=spesStepName skipwhite
syn keyword spesBinding let loop nextgroup=spesBindingName skipwhite
syn keyword spesControl return match for in if else end until call exec fetch ask default file run given expect import when check
" `alias "k"` on a field or a variant; a field may still be called alias.
syn match spesControl /\<alias\ze\s*"/
syn keyword spesOperatorWord and or not
syn keyword spesBoolean true false null
syn keyword spesBuiltinType string int float bool json duration map ExecResult Review Decision

syn match spesDeclName /\h\w*/ contained
syn match spesStepName /\h\w*/ contained
syn match spesBindingName /\h\w*/ contained
syn match spesType /\<\u\w*\>/
syn match spesSettingKey /\<\h\w*\>\ze\s*=[=>]\@!/
syn match spesFunction /\<\l\w*\>\ze(/
syn match spesNumber /\<\d[0-9_]*\(\.\d[0-9_]*\)\=%\=/
syn match spesDuration /\<\d[0-9_]*\(\.\d\+\)\=\(ms\|s\|m\|h\|d\)\>/
syn match spesOperator /->\|=>\|??\|==\|!=\|<=\|>=\|[-+*\/<>|?=]/

syn region spesTemplateExpr matchgroup=spesTemplateDelim start=/{{/ end=/}}/ contained contains=spesControl,spesOperatorWord,spesBoolean,spesNumber,spesFunction,spesOperator,spesInnerString
syn region spesTemplateTag matchgroup=spesTemplateDelim start=/{%/ end=/%}/ contained contains=spesControl,spesOperatorWord,spesBoolean,spesNumber,spesFunction,spesOperator,spesInnerString
syn region spesInnerString start=/"/ skip=/\\"/ end=/"/ contained oneline
syn match spesEscape /\\["\\nrt{}]/ contained
" Defined after the one-line string so that `"""` starts a prompt block.
syn region spesString start=/"/ skip=/\\"/ end=/"/ oneline contains=spesTemplateExpr,spesTemplateTag,spesEscape
syn region spesPrompt start=/"""/ end=/"""/ contains=spesTemplateExpr,spesTemplateTag,spesEscape,@Spell

syn match spesComment "//.*$" contains=spesTodo,@Spell
syn match spesDocComment "///\(/\)\@!.*$" contains=spesTodo,@Spell
syn keyword spesTodo TODO FIXME XXX NOTE contained

hi def link spesDeclaration Keyword
hi def link spesStep Keyword
hi def link spesBinding Keyword
hi def link spesControl Statement
hi def link spesOperatorWord Operator
hi def link spesBoolean Boolean
hi def link spesBuiltinType Type
hi def link spesType Type
hi def link spesDeclName Identifier
hi def link spesStepName Function
hi def link spesBindingName Identifier
hi def link spesSettingKey Special
hi def link spesFunction Function
hi def link spesNumber Number
hi def link spesDuration Number
hi def link spesOperator Operator
hi def link spesTemplateDelim Delimiter
hi def link spesTemplateExpr Special
hi def link spesTemplateTag PreProc
hi def link spesInnerString String
hi def link spesEscape SpecialChar
hi def link spesPrompt String
hi def link spesString String
hi def link spesComment Comment
hi def link spesDocComment SpecialComment
hi def link spesTodo Todo

let b:current_syntax = "spes"
