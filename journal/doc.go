// Package journal records what an import sent and how each batch settled,
// so that an interrupted run can be resumed exactly, and keeps the side
// file that describes a finished run for rollback.
package journal
