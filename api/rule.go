package api

import "fmt"

// Rule is the import endpoint's dedupe rule (the request's "rule"). It is
// the one home of what each rule lets the client do safely.
type Rule int

// The dedupe rules of the import endpoint.
const (
	RuleAllTasks Rule = 0 // skip numbers present in any task
	RuleThisTask Rule = 1 // skip numbers already in this task
	RuleNone     Rule = 2 // keep every row
)

// ParseRule checks a rule given as a number (a flag, a request field).
func ParseRule(n int) (Rule, error) {
	r := Rule(n)
	if !r.Valid() {
		return 0, fmt.Errorf("rule %d: must be 0 (all tasks), 1 (this task) or 2 (no dedupe)", n)
	}
	return r, nil
}

// Valid reports whether r is one of the three rules.
func (r Rule) Valid() bool { return r >= RuleAllTasks && r <= RuleNone }

// ResendIsSafe reports whether a batch that may already have been
// processed can be sent again without importing a row twice: under rules
// 0 and 1 the server drops numbers the task (or any task) already holds;
// under rule 2 it keeps every row, so a resend could double the batch.
func (r Rule) ResendIsSafe() bool { return r != RuleNone }

// CountsEveryRow reports whether a processed batch grows the task's
// numberTotal by exactly its rows, which is what lets the count prove
// whether a batch of unknown fate landed. Only rule 2 keeps every row.
func (r Rule) CountsEveryRow() bool { return r == RuleNone }

// DedupesInFile reports whether repeats within one file are reported as
// duplicates rather than sent: the server would drop them anyway under
// rules 0 and 1.
func (r Rule) DedupesInFile() bool { return r != RuleNone }
