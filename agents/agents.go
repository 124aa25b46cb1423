// Package agents checks the agent numbers a lead file names against the
// account's agents before an import. The import endpoint silently spreads a
// row whose agent is unknown or not enabled over the task's agents (vendor
// document, NOTES.md), so a typo in the agent column would go unnoticed;
// this package finds those agents so the import can warn first.
package agents

import (
	"context"
	"fmt"
	"strings"

	"github.com/m7import/m7import/api"
)

// Lister lists every agent of the account; *api.Client is one.
type Lister interface {
	AllAgents(ctx context.Context) ([]api.Agent, error)
}

var _ Lister = (*api.Client)(nil)

// Problem is an agent number that cannot take the rows assigned to it:
// the account has no such agent, or the agent is not enabled.
type Problem struct {
	// AgentNumber is the number as the file gives it.
	AgentNumber string
	// Exists reports whether the account has the agent at all.
	Exists bool
	// Name and Status are the agent's, when it exists (Status is
	// api.AgentDisabled, api.AgentLocked or another non-enabled value).
	Name, Status string
}

// String describes the problem, e.g. "agent 2002 (王五) is disabled" or
// "agent 2009 does not exist in this account".
func (p Problem) String() string {
	if !p.Exists {
		return fmt.Sprintf("agent %s does not exist in this account", p.AgentNumber)
	}
	who := "agent " + p.AgentNumber
	if p.Name != "" {
		who += " (" + p.Name + ")"
	}
	switch p.Status {
	case api.AgentDisabled:
		return who + " is disabled"
	case api.AgentLocked:
		return who + " is locked"
	case "":
		return who + " has no status (not enabled)"
	}
	return fmt.Sprintf("%s is not enabled (status %q)", who, p.Status)
}

// Check returns the problems of agentNumbers, in the order given (each
// number once; empty numbers are ignored, since an empty agent is meant to
// be spread). It lists the account's agents once, whatever the count of
// numbers, and makes no call when there is nothing to check.
func Check(ctx context.Context, c Lister, agentNumbers []string) ([]Problem, error) {
	var want []string
	seen := map[string]bool{}
	for _, n := range agentNumbers {
		n = strings.TrimSpace(n)
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		want = append(want, n)
	}
	if len(want) == 0 {
		return nil, nil
	}
	all, err := c.AllAgents(ctx)
	if err != nil {
		return nil, fmt.Errorf("check agents: %w", err)
	}
	byNumber := make(map[string]api.Agent, len(all))
	for _, a := range all {
		byNumber[a.AgentNumber] = a
	}
	var problems []Problem
	for _, n := range want {
		a, ok := byNumber[n]
		switch {
		case !ok:
			problems = append(problems, Problem{AgentNumber: n})
		case a.Status != api.AgentEnabled:
			problems = append(problems, Problem{AgentNumber: n, Exists: true, Name: a.AgentName, Status: a.Status})
		}
	}
	return problems, nil
}
