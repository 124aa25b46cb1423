package main

import (
	"errors"
	"net"
	"net/url"
	"syscall"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/job"
	"github.com/m7import/m7import/reports"
)

// withNextStep makes err say what to do next where the command line can
// tell better than the package that failed: a report path is named by the
// option that sets it, and a server that cannot be reached points at the
// base URL. An error that already carries a hint keeps it.
func withNextStep(err error, getenv func(string) string) error {
	var pe *reports.PathError
	if errors.As(err, &pe) {
		switch pe.What {
		case "report":
			pe.What = "--report"
		case "attention file":
			pe.What = "--attention"
		}
	}
	if job.HintOf(err) == "" && unreachable(err) {
		return job.WithHint(err, "check M7_BASE_URL or --base-url (now "+baseURLOf(err, getenv)+") and the network")
	}
	return err
}

// unreachable reports whether err means the server could not be reached
// at all: connection refused, no such host, no route.
func unreachable(err error) bool {
	var dns *net.DNSError
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.As(err, &dns) ||
		errors.As(err, &op) && op.Op == "dial"
}

// baseURLOf names the server a failed request went to: the scheme and host
// of its URL, else the configured one.
func baseURLOf(err error, getenv func(string) string) string {
	configured := getenv("M7_BASE_URL")
	if configured == "" {
		configured = api.DefaultBaseURL
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		u, perr := url.Parse(ue.URL)
		c, cerr := url.Parse(configured)
		if perr == nil && u.Host != "" && (cerr != nil || c.Host != u.Host) {
			return u.Scheme + "://" + u.Host // --base-url chose another server
		}
	}
	return configured
}
