// Package tasklock lets one process at a time on this machine change a 7moor
// task: an import (from the command line, the web server or the inbox), a
// rollback or a numbers delete. Two writers into one task would spoil the
// numberTotal arithmetic that settles batches in doubt, so they take turns
// (see ../../shared/spec/NOTES.md, "the per-task lock").
//
// The lock is flock(2) on a file under the data directory, one per (account
// appkey, task). The kernel drops it when its holder exits, however it exits,
// so kill -9 leaves no stale lock. Lock files are never deleted: removing a
// locked file would let a later process lock a fresh inode while an earlier
// one still holds the old one. The holder writes who it is into the file, so
// a refused caller can name it.
package tasklock
