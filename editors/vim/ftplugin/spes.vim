" spesc workflow files: comments and indentation
if exists("b:did_ftplugin")
  finish
endif
let b:did_ftplugin = 1

setlocal commentstring=//\ %s
setlocal comments=:///,://
setlocal shiftwidth=2 softtabstop=2 expandtab
setlocal autoindent smartindent cindent
setlocal cinoptions=j1,J1
setlocal suffixesadd=.spes

let b:undo_ftplugin = "setlocal commentstring< comments< shiftwidth< softtabstop< expandtab< autoindent< smartindent< cindent< cinoptions< suffixesadd<"
