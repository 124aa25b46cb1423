// Package datadir finds the one folder where m7import keeps what outlives a
// run on this machine: the import history, the per-task locks and the web
// server's uploads. The command line, `serve` and `inbox` all resolve it the
// same way, so they share one history and one set of locks (see
// ../../shared/spec/NOTES.md, "history store, per-task lock, attention file").
package datadir
