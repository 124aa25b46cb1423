package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/m7import/m7import/agents"
	"github.com/m7import/m7import/importer"
)

// checkAgents is import's --check-agents: before anything is sent, it warns
// on w about the agent numbers in input's agent column that the account
// does not have or has not enabled, since the server would spread their
// rows over the task's agents without a word (vendor document). The pass
// reads numbers loosely and without dedupe (it only needs the agent
// column, and must cost little next to the import), so a row counts when
// it has a number-like cell. A file without an agent
// column is not checked and costs no API call. It returns the problems
// found; an error only when the file cannot be read or the agents cannot
// be listed (the caller may treat the latter as a warning).
func checkAgents(ctx context.Context, c agents.Lister, input string, opts importer.Options, w io.Writer) ([]agents.Problem, error) {
	opts.Policy, opts.Rule = importer.Loose, 2
	rd, err := importer.Open(ctx, input, opts)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	if _, ok := rd.Columns()[importer.FieldAgentNumber]; !ok {
		return nil, nil
	}
	type use struct{ rows, first int }
	uses := map[string]*use{}
	var order []string
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if rec.Status != importer.Valid || rec.AgentNumber == "" {
			continue
		}
		u := uses[rec.AgentNumber]
		if u == nil {
			u = &use{first: rec.Row}
			uses[rec.AgentNumber] = u
			order = append(order, rec.AgentNumber)
		}
		u.rows++
	}
	problems, err := agents.Check(ctx, c, order)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", input, err)
	}
	for _, p := range problems {
		u := uses[p.AgentNumber]
		rows := fmt.Sprintf("its row (row %d)", u.first)
		if u.rows > 1 {
			rows = fmt.Sprintf("its %d rows (first: row %d)", u.rows, u.first)
		}
		fmt.Fprintf(w, "warning: %s: %s: %s will be spread over the task's agents instead\n",
			input, strings.TrimSpace(p.String()), rows)
	}
	return problems, nil
}
