package job

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/m7import/m7import/agents"
	"github.com/m7import/m7import/importer"
)

// precheck is what one pass over the input learns before anything is
// sent: the counts --max-invalid needs, the agent numbers the agent check
// needs, and the content's SHA-256 that the journal and the history key
// on.
type precheck struct {
	rows, valid, invalid int
	sha256               string
	hasAgents            bool
	agentOrder           []string
	agentUse             map[string]*agentUse
}

type agentUse struct{ rows, first int }

// readAhead makes the pre-check pass over input.
func readAhead(ctx context.Context, input string, opts importer.Options) (*precheck, error) {
	opts.KeepCells = false // only the import pass writes the attention file
	rd, err := importer.Open(ctx, input, opts)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	p := &precheck{agentUse: map[string]*agentUse{}}
	_, p.hasAgents = rd.Columns()[importer.FieldAgentNumber]
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		p.rows++
		switch {
		case rec.Status == importer.Invalid:
			p.invalid++
		case rec.Status == importer.Valid:
			p.valid++
			if rec.AgentNumber == "" {
				continue
			}
			u := p.agentUse[rec.AgentNumber]
			if u == nil {
				u = &agentUse{first: rec.Row}
				p.agentUse[rec.AgentNumber] = u
				p.agentOrder = append(p.agentOrder, rec.AgentNumber)
			}
			u.rows++
		}
	}
	// The hash is of the bytes this pass read; the import pass hashes what
	// it reads again, and the two must agree.
	if p.sha256, err = rd.SHA256(); err != nil {
		return nil, fmt.Errorf("read %s: %w", input, err)
	}
	return p, nil
}

// checkAgents warns about the agent numbers in the file that the account
// does not have or has not enabled, since the server would spread their
// rows over the task's agents without a word (vendor document). A file
// without an agent column costs no API call.
func (p *precheck) checkAgents(ctx context.Context, c agents.Lister, input string, warn func(string)) error {
	if !p.hasAgents || len(p.agentOrder) == 0 {
		return nil
	}
	problems, err := agents.Check(ctx, c, p.agentOrder)
	if err != nil {
		return fmt.Errorf("%s: %w", input, err)
	}
	for _, pr := range problems {
		u := p.agentUse[pr.AgentNumber]
		rows := fmt.Sprintf("its row (row %d)", u.first)
		if u.rows > 1 {
			rows = fmt.Sprintf("its %d rows (first: row %d)", u.rows, u.first)
		}
		warn(fmt.Sprintf("%s: %s: %s will be spread over the task's agents instead", input, strings.TrimSpace(pr.String()), rows))
	}
	return nil
}
