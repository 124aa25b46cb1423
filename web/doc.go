// Package web is m7import's local web front end: an HTTP server with a JSON
// API under /api/ and an embedded page (assets/) that walks campaign staff
// through an import — drop a file, see what was detected, check it, pick a
// task, import, download what needs fixing (issue 12).
//
// The page is a thin view: reading, mapping, normalizing and deduping stay
// in importer, tasks come from tasks and api. The server keeps uploads and
// the problem lists of checks on disk under Config.DataDir, so memory does
// not grow with the file (a million-row check streams the reader and writes
// its problems to a file with an offset index).
//
// Safety (see ../shared/spec/NOTES.md, "the page's token and the check
// step"): the page's HTML carries a token in <meta name="m7-token"> and
// every state-changing request must send it back as X-M7-Token; a Host
// header that is not the server's own is refused (DNS rebinding); bound to a
// non-loopback address, every request needs the token.
package web
