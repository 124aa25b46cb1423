package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// flagGroup is a titled group of flags in a command's --help, so that a
// long list reads by what the flags are for.
type flagGroup struct {
	title string
	names []string
}

// newFlagSet returns a FlagSet whose errors come back to the caller and
// whose --help prints usage (with examples) to w, then every flag with its
// default: in groups when groups are given (flags in no group come last,
// under "Other flags"; a group without a title is not listed).
func newFlagSet(name, usage string, w io.Writer, groups ...flagGroup) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		w := unstamped(w)
		fmt.Fprint(w, strings.TrimLeft(usage, "\n"))
		printFlags(w, fs, groups)
	}
	return fs
}

// printFlags lists fs's flags as --name TYPE, the usage and the default.
func printFlags(w io.Writer, fs *flag.FlagSet, groups []flagGroup) {
	listed := map[string]bool{}
	section := func(title string, fl []*flag.Flag) {
		if len(fl) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s:\n", title)
		for _, f := range fl {
			listed[f.Name] = true
			typ, text := flag.UnquoteUsage(f)
			head := "  --" + f.Name
			if typ != "" {
				head += " " + typ
			}
			fmt.Fprintf(w, "%s\n    \t%s", head, strings.ReplaceAll(text, "\n", "\n    \t"))
			if def := f.DefValue; def != "" && def != "false" && def != "0" && def != "0s" {
				fmt.Fprintf(w, " (default %s)", def)
			}
			fmt.Fprintln(w)
		}
	}
	for _, g := range groups {
		if g.title == "" {
			for _, n := range g.names {
				listed[n] = true
			}
			continue
		}
		var fl []*flag.Flag
		for _, n := range g.names {
			if f := fs.Lookup(n); f != nil {
				fl = append(fl, f)
			}
		}
		section(g.title, fl)
	}
	var rest []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if !listed[f.Name] {
			rest = append(rest, f)
		}
	})
	title := "Flags"
	if len(groups) > 0 {
		title = "Other flags"
	}
	section(title, rest)
}

// flagError is a command line the flag parser refused. Its message is one
// line that already says how to get help, so report adds nothing.
type flagError struct{ msg string }

func (e *flagError) Error() string { return e.msg }

// parseArgs parses flags wherever they stand among the positional
// arguments ("import leads.csv --task-id T" works like flags first), and
// returns the positional ones. "--" ends the flags. --help prints the
// usage; any other refusal is one line naming the closest flags and the
// command's --help, never the whole usage.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	usage := fs.Usage
	// The flag package prints the usage on every error: only --help should.
	fs.Usage = func() {}
	defer func() { fs.Usage = usage }()
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				usage()
				return nil, err
			}
			return nil, usagef("%w", flagParseError(fs, err))
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// The flag package's refusals are plain errors; these are the prefixes of
// the ones rewritten for a person (see flag.FlagSet.failf's messages).
const (
	undefinedPrefix = "flag provided but not defined: -"
	needsArgPrefix  = "flag needs an argument: -"
)

// flagParseError rewrites the flag package's refusal as one line with the
// flags meant and the way to the command's help.
func flagParseError(fs *flag.FlagSet, err error) error {
	help := fmt.Sprintf("run 'm7import %s --help'", fs.Name())
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, undefinedPrefix):
		name := strings.TrimPrefix(msg, undefinedPrefix)
		line := fmt.Sprintf("%s: unknown flag --%s", fs.Name(), name)
		if close := closestFlags(fs, name); len(close) > 0 {
			line += ": did you mean " + orList(close) + "?"
		}
		return &flagError{line + " (" + help + " for every flag)"}
	case strings.HasPrefix(msg, needsArgPrefix):
		name := strings.TrimPrefix(msg, needsArgPrefix)
		return &flagError{fmt.Sprintf("%s: --%s needs a value (%s)", fs.Name(), name, help)}
	}
	// "invalid value "x" for flag -rule: parse error" and the like.
	// "invalid boolean value "x" for -json: parse error" too.
	msg = strings.Replace(strings.Replace(msg, "for flag -", "for -", 1), "for -", "for --", 1)
	return &flagError{fmt.Sprintf("%s: %s (%s)", fs.Name(), msg, help)}
}

// closestFlags returns the flags a mistyped name most likely meant: those
// it is a prefix of (--task: --task-id, --task-name), else those within a
// small edit distance (--taks-id: --task-id), best first.
func closestFlags(fs *flag.FlagSet, name string) []string {
	name = strings.ToLower(name)
	var prefixed []string
	best, bestDist := []string(nil), len(name)/3+1
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "secret" {
			return // refused everywhere: never suggest it
		}
		if strings.HasPrefix(f.Name, name) || strings.HasPrefix(name, f.Name+"-") {
			prefixed = append(prefixed, f.Name)
			return
		}
		switch d := editDistance(name, f.Name); {
		case d < bestDist:
			best, bestDist = []string{f.Name}, d
		case d == bestDist:
			best = append(best, f.Name)
		}
	})
	if len(prefixed) > 0 {
		best = prefixed
	}
	slices.Sort(best)
	if len(best) > 3 {
		best = best[:3]
	}
	for i := range best {
		best[i] = "--" + best[i]
	}
	return best
}

// orList joins names as "a", "a or b", "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// editDistance is the Levenshtein distance of a and b, in bytes (flag
// names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// listFlag is a comma-separated list flag (--agents 2000,2001).
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}
