package web

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/i18n"
	"github.com/m7import/m7import/importer"
)

// Paging of a check's problems.
const (
	defaultProblemPage = 100
	maxProblemPage     = 1000
)

// checkRequest is the body of POST /api/files/{id}/check; every field is
// optional.
type checkRequest struct {
	Sheet   string  `json:"sheet"`
	Mapping mapping `json:"mapping"`
	// Rule is the dedupe rule of the import to come (default 1, as on the
	// command line): under 2 no row is a duplicate.
	Rule *int `json:"rule"`
}

// checkOptions are what a check's outcome depends on; their hash names
// the check's folder.
type checkOptions struct {
	Sheet   string   `json:"sheet"`
	Mapping mapping  `json:"mapping"`
	Rule    api.Rule `json:"rule"`
	// Lang is the page's language: the problems' reasons follow it
	// (Accept-Language, NOTES.md "language of reasons").
	Lang string `json:"lang"`
}

func (o checkOptions) key() string {
	b, _ := json.Marshal(o)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// checkCounts are a check's tallies, kept in its folder's summary.json.
type checkCounts struct {
	Rows          int `json:"rows"`
	Valid         int `json:"valid"`
	Invalid       int `json:"invalid"`
	Duplicate     int `json:"duplicate"`
	ProblemsTotal int `json:"problems_total"`
}

// problem is one row that will not be imported, and why.
type problem struct {
	Row    int    `json:"row"`
	Name   string `json:"name"`
	Number string `json:"number"`
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// checkReply is the reply of POST /api/files/{id}/check.
type checkReply struct {
	checkCounts
	Problems []problem `json:"problems"`
	Offset   int       `json:"offset"`
	Limit    int       `json:"limit"`
	Sheet    string    `json:"sheet"`
	Rule     api.Rule  `json:"rule"`
}

// Files of a check's folder (DataDir/uploads/ID/checks/KEY/).
const (
	problemsFile = "problems.jsonl" // one problem a line, in input order
	indexFile    = "problems.idx"   // the byte offset of each line, 8 bytes little-endian
	summaryFile  = "summary.json"   // checkCounts; written last, so its presence means complete
)

// checksKept bounds the finished checks kept per file (the page goes back
// and forth between mappings).
const checksKept = 4

// checkCache serializes checks of one file, so that the same check asked
// twice at once runs once and the second is served from disk.
type checkCache struct {
	mu    sync.Mutex
	locks map[string]chan struct{}
	kept  int
}

func newCheckCache(kept int) *checkCache {
	return &checkCache{locks: map[string]chan struct{}{}, kept: kept}
}

// lock takes the file's lock, or gives up when ctx ends.
func (c *checkCache) lock(ctx context.Context, id string) (unlock func(), err error) {
	c.mu.Lock()
	ch, ok := c.locks[id]
	if !ok {
		ch = make(chan struct{}, 1)
		c.locks[id] = ch
	}
	c.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// handleCheck checks an upload with the given sheet, mapping and rule, or
// serves the same check done before, and answers one page of problems.
func (s *Server) handleCheck(w http.ResponseWriter, r *http.Request) {
	reply, err := s.check(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, reply)
}

func (s *Server) check(w http.ResponseWriter, r *http.Request) (*checkReply, error) {
	meta, err := s.lookup(r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	var req checkRequest
	if err := readJSON(w, r, &req); err != nil {
		return nil, err
	}
	offset, limit, err := paging(r)
	if err != nil {
		return nil, err
	}
	opts := checkOptions{Sheet: req.Sheet, Mapping: req.Mapping, Rule: api.RuleThisTask, Lang: pageLang(r)}
	if req.Rule != nil {
		rule, err := api.ParseRule(*req.Rule)
		if err != nil {
			return nil, badRequest("rule", "rule %d: want 0 (skip numbers in any task), 1 (skip numbers already in this task) or 2 (keep every row)", *req.Rule)
		}
		opts.Rule = rule
	}
	dir, counts, err := s.runCheck(r.Context(), meta, opts)
	if err != nil {
		return nil, err
	}
	probs, err := readProblems(dir, offset, limit)
	if err != nil {
		return nil, fmt.Errorf("read the problems of %s: %w", meta.Name, err)
	}
	return &checkReply{checkCounts: counts, Problems: probs, Offset: offset, Limit: limit, Sheet: opts.Sheet, Rule: opts.Rule}, nil
}

// runCheck returns the folder and counts of the check of meta with opts,
// running it first unless a finished one is on disk.
func (s *Server) runCheck(ctx context.Context, meta *fileMeta, opts checkOptions) (string, checkCounts, error) {
	unlock, err := s.checks.lock(ctx, meta.ID)
	if err != nil {
		return "", checkCounts{}, err
	}
	defer unlock()
	checks := filepath.Join(s.fileDir(meta.ID), "checks")
	dir := filepath.Join(checks, opts.key())
	if counts, err := readCounts(dir); err == nil {
		now := s.cfg.Now()
		os.Chtimes(dir, now, now) // most recently used
		return dir, counts, nil
	}
	os.RemoveAll(dir) // an unfinished check of an earlier run
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", checkCounts{}, fmt.Errorf("check %s: %w", meta.Name, err)
	}
	counts, err := s.writeCheck(ctx, meta, opts, dir)
	if err != nil {
		os.RemoveAll(dir)
		return "", checkCounts{}, err
	}
	pruneChecks(checks, s.checks.kept)
	return dir, counts, nil
}

// importerMap turns the page's mapping into the importer's overrides: a
// header text as is, "column N" (the importer's label for a column without
// a header) as its number.
func importerMap(m mapping) map[importer.Field]string {
	out := map[importer.Field]string{}
	for f, v := range map[importer.Field]string{importer.FieldName: m.Name, importer.FieldNumber: m.Number,
		importer.FieldRemark: m.Remark, importer.FieldAgentNumber: m.AgentNumber} {
		v = strings.TrimSpace(v)
		if n, ok := strings.CutPrefix(v, "column "); ok {
			if _, err := strconv.Atoi(n); err == nil {
				v = n
			}
		}
		if v != "" {
			out[f] = v
		}
	}
	return out
}

// writeCheck streams the file through the importer and writes every row
// that will not be imported into dir, with an index of their offsets, so
// that memory does not grow with the file.
func (s *Server) writeCheck(ctx context.Context, meta *fileMeta, opts checkOptions, dir string) (checkCounts, error) {
	var counts checkCounts
	rd, err := importer.Open(ctx, s.filePath(meta), importer.Options{Sheet: opts.Sheet, Map: importerMap(opts.Mapping), KeepRepeats: !opts.Rule.DedupesInFile()})
	if err != nil {
		if errors.Is(err, importer.ErrBadOption) {
			err = fieldErr("mapping", err)
		}
		return counts, s.userError(meta, err)
	}
	defer rd.Close()
	lang, _ := i18n.Parse(opts.Lang)
	reason := i18n.Reasons(lang)
	pf, err := os.Create(filepath.Join(dir, problemsFile))
	if err != nil {
		return counts, err
	}
	defer pf.Close()
	xf, err := os.Create(filepath.Join(dir, indexFile))
	if err != nil {
		return counts, err
	}
	defer xf.Close()
	bw := bufio.NewWriterSize(pf, 64<<10)
	pw := &countingWriter{w: bw}
	xw := bufio.NewWriterSize(xf, 16<<10)
	enc := json.NewEncoder(pw)
	enc.SetEscapeHTML(false)
	var off [8]byte
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return counts, s.userError(meta, err)
		}
		counts.Rows++
		switch rec.Status {
		case importer.Valid:
			counts.Valid++
			continue
		case importer.Invalid:
			counts.Invalid++
		case importer.Duplicate:
			counts.Duplicate++
		}
		counts.ProblemsTotal++
		binary.LittleEndian.PutUint64(off[:], uint64(pw.n))
		xw.Write(off[:])
		if err := enc.Encode(problem{Row: rec.Row, Name: rec.Name, Number: rec.Number, Status: string(rec.Status), Reason: reason(rec.Reason)}); err != nil {
			return counts, fmt.Errorf("check %s: write its problems: %w", meta.Name, err)
		}
		if counts.Rows%8192 == 0 && ctx.Err() != nil {
			return counts, ctx.Err()
		}
	}
	if err := bw.Flush(); err != nil {
		return counts, fmt.Errorf("check %s: write its problems: %w", meta.Name, err)
	}
	if err := xw.Flush(); err != nil {
		return counts, fmt.Errorf("check %s: write its problems: %w", meta.Name, err)
	}
	b, _ := json.Marshal(counts)
	if err := os.WriteFile(filepath.Join(dir, summaryFile), b, 0o600); err != nil {
		return counts, fmt.Errorf("check %s: %w", meta.Name, err)
	}
	return counts, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func readCounts(dir string) (checkCounts, error) {
	var c checkCounts
	b, err := os.ReadFile(filepath.Join(dir, summaryFile))
	if err != nil {
		return c, err
	}
	return c, json.Unmarshal(b, &c)
}

// readProblems reads limit problems from the offset-th, through the index.
func readProblems(dir string, offset, limit int) ([]problem, error) {
	out := []problem{}
	xf, err := os.Open(filepath.Join(dir, indexFile))
	if err != nil {
		return nil, err
	}
	defer xf.Close()
	var off [8]byte
	if _, err := xf.ReadAt(off[:], int64(offset)*8); err == io.EOF {
		return out, nil
	} else if err != nil {
		return nil, err
	}
	pf, err := os.Open(filepath.Join(dir, problemsFile))
	if err != nil {
		return nil, err
	}
	defer pf.Close()
	if _, err := pf.Seek(int64(binary.LittleEndian.Uint64(off[:])), io.SeekStart); err != nil {
		return nil, err
	}
	br := bufio.NewReader(pf)
	for len(out) < limit {
		line, err := br.ReadBytes('\n')
		if len(line) == 0 && err == io.EOF {
			break
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		var p problem
		if err := json.Unmarshal(line, &p); err != nil {
			return nil, fmt.Errorf("damaged problem list: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// pruneChecks keeps the kept most recently used checks of a file.
func pruneChecks(checks string, kept int) {
	ents, err := os.ReadDir(checks)
	if err != nil || len(ents) <= kept {
		return
	}
	type aged struct {
		path string
		mod  int64
	}
	var all []aged
	for _, e := range ents {
		if fi, err := e.Info(); err == nil {
			all = append(all, aged{filepath.Join(checks, e.Name()), fi.ModTime().UnixNano()})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].mod > all[j].mod })
	for _, a := range all[min(kept, len(all)):] {
		os.RemoveAll(a.path)
	}
}

// paging reads ?offset=&limit=.
func paging(r *http.Request) (offset, limit int, err error) {
	q := r.URL.Query()
	limit = defaultProblemPage
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, badRequest("offset", "offset %q: want a whole number from 0", v)
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxProblemPage {
			return 0, 0, badRequest("limit", "limit %q: want a whole number from 1 to %d", v, maxProblemPage)
		}
	}
	return offset, limit, nil
}

var langTag = regexp.MustCompile(`^[A-Za-z]{1,8}`)

// pageLang is the request's language as the page sends it: "zh" or "en".
func pageLang(r *http.Request) string {
	if strings.HasPrefix(strings.ToLower(langTag.FindString(r.Header.Get("Accept-Language"))), "zh") {
		return "zh"
	}
	return "en"
}
