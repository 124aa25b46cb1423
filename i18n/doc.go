// Package i18n gives m7import's words to people in Chinese or English while
// the code that produces them keeps speaking English.
//
// Reasons (the report's reason column, the web page's problem list, the
// attention file) are produced in English everywhere (importer, upload,
// settle, pipeline, job, deleter) and translated on the way out by Reason,
// from an ordered table of patterns: a composed reason ("outcome unknown:
// HTTP 500 code 500: internal error; not resent under rule 2 ...") is
// translated layer by layer, and a part the table does not know (the
// vendor's own message, a column name) is left as it is. English is never
// rewritten, so an English report is byte for byte what it was before.
//
// The command line's fixed sentences (summary, progress, notices) come
// from a small typed catalog: T(lang, Key, args...).
//
// The language comes from --lang (Parse), the environment (FromEnv:
// LC_ALL, then LC_MESSAGES, then LANG) or, for the web page, the request's
// Accept-Language (FromAcceptLanguage). Statuses are never translated: they
// are the keys scripts rely on (../shared/spec/NOTES.md, "language of
// reasons in the web page and its reports").
package i18n
