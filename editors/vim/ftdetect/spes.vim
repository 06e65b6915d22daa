" spesc workflow files
autocmd BufRead,BufNewFile *.spes setfiletype spes
