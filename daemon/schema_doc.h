/* schema_doc.h - the configuration reference, generated from the schema
 * tables in daemon/config/: Markdown for README.md (`coldchaind -S`) and the
 * coldchaind.conf(5) man page (`coldchaind -M`), so neither can drift. */
#ifndef CC_SCHEMA_DOC_H
#define CC_SCHEMA_DOC_H

#include <stdio.h>

void schema_doc_markdown(FILE *f);
void schema_doc_man(FILE *f, const char *version);

#endif
