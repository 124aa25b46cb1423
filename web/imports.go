package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/chunker"
	"github.com/m7import/m7import/history"
	"github.com/m7import/m7import/i18n"
	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/job"
	"github.com/m7import/m7import/journal"
	"github.com/m7import/m7import/pipeline"
	"github.com/m7import/m7import/reports"
	"github.com/m7import/m7import/tasklock"
	"github.com/m7import/m7import/tasks"
)

// acceptWait bounds how long POST /api/imports waits for the run to pass
// its refusals (the task's lock, content already imported) before it
// answers 202: a refusal within it is the request's 409.
const acceptWait = 30 * time.Second

// progressEvery throttles the progress events of one import.
const progressEvery = 250 * time.Millisecond

// DefaultImportOptions are the settings of every import the server runs
// unless Config.Import says otherwise: the command line's defaults for the
// same flags (m7import import --help).
func DefaultImportOptions() job.Options {
	return job.Options{
		Rule: api.RuleThisTask, BatchSize: chunker.MaxSize, Concurrency: 0, Rate: 5,
		MaxRetries: 5, RetryInitial: 500 * time.Millisecond, RetryMax: 30 * time.Second,
		DrainTimeout: 30 * time.Second, Timeout: 30 * time.Second, CheckAgents: true,
		Read: importer.Options{Region: "CN", Policy: importer.Strict},
	}
}

// Import ids: a web import's is "w" and 16 hex digits (its folder under
// DataDir/imports); an import the history holds from another front end
// (the command line, the inbox) is its history id.
var (
	webImportID     = regexp.MustCompile(`^w[0-9a-f]{16}$`)
	historyImportID = regexp.MustCompile(`^[1-9][0-9]{0,18}$`)
)

// importRequest is the body of POST /api/imports.
type importRequest struct {
	FileID     string          `json:"file_id"`
	TaskID     string          `json:"task_id"`
	Rule       *int            `json:"rule"`
	Sheet      string          `json:"sheet"`
	Mapping    mapping         `json:"mapping"`
	MaxInvalid json.RawMessage `json:"max_invalid"`
	Force      bool            `json:"force"`
}

// importRecord is what an import's folder remembers (import.json): the
// request, where its files are, and how it ended. It survives a restart;
// a record left running is resumed from its journal.
type importRecord struct {
	ID         string          `json:"id"`
	FileID     string          `json:"file_id,omitempty"`
	File       string          `json:"file"`            // the name the user uploaded
	Input      string          `json:"input,omitempty"` // the upload on disk
	TaskID     string          `json:"task_id"`
	TaskName   string          `json:"task_name,omitempty"`
	Rule       api.Rule        `json:"rule"`
	Sheet      string          `json:"sheet,omitempty"`
	Mapping    mapping         `json:"mapping"`
	MaxInvalid string          `json:"max_invalid,omitempty"`
	Force      bool            `json:"force,omitempty"`
	Lang       string          `json:"lang,omitempty"`
	State      history.State   `json:"state"`
	StartedAt  time.Time       `json:"started_at"`
	Report     string          `json:"report,omitempty"`
	Attention  string          `json:"attention,omitempty"`
	HistoryID  int64           `json:"history_id,omitempty"`
	Summary    json.RawMessage `json:"summary,omitempty"`
	ExitCode   int             `json:"exit_code"`
	Error      string          `json:"error,omitempty"`
	RolledBack bool            `json:"rolled_back,omitempty"`
	Deleted    int             `json:"deleted,omitempty"`
}

// recordFile is the name of an import's record in its folder.
const recordFile = "import.json"

// imports keeps the runs in progress.
type imports struct {
	dir string // DataDir/imports

	// ctx ends every run: Close cancels it with errShutdown, which leaves
	// the runs' records running, to be resumed at the next start.
	ctx  context.Context
	stop context.CancelCauseFunc
	wg   sync.WaitGroup

	mu   sync.Mutex
	runs map[string]*run
	// records serializes the read-modify-write of records.
	records sync.Mutex
}

// errShutdown and errCancelled are why a run's context ended: the server
// stopping (the run resumes at the next start) or the user's cancel.
var (
	errShutdown  = errors.New("the server is shutting down")
	errCancelled = errors.New("cancelled from the page")
)

// run is one import in progress.
type run struct {
	id       string
	feed     *Feed
	cancel   context.CancelCauseFunc
	accepted chan struct{} // closed once the run passed its refusals
	finished chan struct{} // closed when job.File returned
	acceptOn sync.Once
	err      error // job.File's, set before finished is closed
	sum      job.Summary
}

func (r *run) accept() { r.acceptOn.Do(func() { close(r.accepted) }) }

func newImports(dataDir string) (*imports, error) {
	dir := filepath.Join(dataDir, "imports")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("web: data directory %s is not writable: %w (choose another with --data-dir)", dataDir, err)
	}
	ctx, stop := context.WithCancelCause(context.Background())
	return &imports{dir: dir, ctx: ctx, stop: stop, runs: map[string]*run{}}, nil
}

// Close stops the imports in progress (they drain as on Ctrl-C; their
// records stay running and resume at the next start), waits for them,
// and closes the history.
func (s *Server) Close() error {
	s.imports.stop(errShutdown)
	s.imports.wg.Wait()
	return s.history.Close()
}

// ResumeImports restarts, from their journals, the imports that a stop or
// a crash of an earlier server left running (NOTES: an import interrupted
// by a restart resumes when the server starts again). It returns how many
// it restarted.
func (s *Server) ResumeImports(ctx context.Context) (int, error) {
	recs, err := s.webRecords()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, rec := range recs {
		if rec.State != history.StateRunning || s.active(rec.ID) != nil {
			continue
		}
		c, err := s.apiClient()
		if err != nil {
			return n, fmt.Errorf("resume import %s (%s): %w", rec.ID, rec.File, err)
		}
		s.cfg.Logger.Info("resuming an interrupted import", "id", rec.ID, "file", rec.File, "task", rec.TaskID)
		s.start(c, rec, true)
		n++
	}
	return n, nil
}

// handleStartImport starts an import of an upload into a task: 202 {id}
// once the run has passed its refusals, or 409 when another import holds
// the task or the same content was imported into it before (naming the
// earlier import as import_id, so the page can offer "import anyway").
func (s *Server) handleStartImport(w http.ResponseWriter, r *http.Request) {
	var req importRequest
	if err := readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.apiClient()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rec, err := s.newImport(r, c, req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ru := s.start(c, rec, false)
	timer := time.NewTimer(acceptWait)
	defer timer.Stop()
	select {
	case <-ru.accepted:
	case <-ru.finished:
	case <-timer.C:
	case <-r.Context().Done():
	}
	select {
	case <-ru.finished:
		if refused := s.refusal(r.Context(), rec, ru); refused != nil {
			os.RemoveAll(s.importDir(rec.ID))
			s.writeError(w, r, refused)
			return
		}
	default:
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"id": rec.ID})
}

// refusal turns a run that ended before sending because of the task's
// lock or content already imported into the request's 409; nil for any
// other outcome (the import's record tells it).
func (s *Server) refusal(ctx context.Context, rec *importRecord, ru *run) error {
	switch {
	case errors.Is(ru.err, job.ErrAlreadyImported):
		he := &httpError{status: http.StatusConflict, err: ru.err}
		if earlier, err := s.history.ImportedContent(ctx, ru.sum.SHA256, rec.TaskID); err == nil && len(earlier) > 0 {
			he.importID = s.apiID(earlier[0])
		}
		return he
	case errors.Is(ru.err, tasklock.ErrHeld):
		return &httpError{status: http.StatusConflict, err: ru.err}
	}
	return nil
}

// newImport checks the request and records the new import.
func (s *Server) newImport(r *http.Request, c *api.Client, req importRequest) (*importRecord, error) {
	meta, err := s.lookup(req.FileID)
	if err != nil {
		return nil, fieldErr("file_id", err)
	}
	req.TaskID = strings.TrimSpace(req.TaskID)
	if req.TaskID == "" {
		return nil, badRequest("task_id", "choose the task to import into")
	}
	rule := api.RuleThisTask
	if req.Rule != nil {
		if rule, err = api.ParseRule(*req.Rule); err != nil {
			return nil, badRequest("rule", "rule %d: want 0 (skip numbers in any task), 1 (skip numbers already in this task) or 2 (keep every row)", *req.Rule)
		}
	}
	maxInvalid, err := limitText(req.MaxInvalid)
	if err != nil {
		return nil, err
	}
	task, err := tasks.ByID(r.Context(), c, req.TaskID)
	if err != nil {
		return nil, fieldErr("task_id", err)
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	id = "w" + id
	dir := s.importDir(id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("start the import: %w", err)
	}
	base := strings.TrimSuffix(meta.Name, filepath.Ext(meta.Name))
	rec := &importRecord{
		ID: id, FileID: meta.ID, File: meta.Name, Input: s.filePath(meta), TaskID: task.TaskID, TaskName: task.TaskName,
		Rule: rule, Sheet: req.Sheet, Mapping: req.Mapping, MaxInvalid: maxInvalid, Force: req.Force,
		Lang: pageLang(r), State: history.StateRunning, StartedAt: s.cfg.Now(),
		// The CLI's default report name, in the import's own folder.
		Report:    filepath.Join(dir, base+".results.csv"),
		Attention: filepath.Join(dir, base+".attention.csv"),
	}
	if err := s.saveRecord(rec); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return rec, nil
}

// limitText reads max_invalid as the page sends it: "", "50", "5%" or a
// number.
func limitText(raw json.RawMessage) (string, error) {
	var text string
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &text); err != nil {
			var n json.Number
			if err := json.Unmarshal(raw, &n); err != nil {
				return "", badRequest("max_invalid", "max_invalid: want a count like 50 or a percentage like \"5%%\"")
			}
			text = n.String()
		}
	}
	if _, err := job.ParseLimit(text); err != nil {
		return "", badRequest("max_invalid", "max_invalid %q: %v", text, err)
	}
	return strings.TrimSpace(text), nil
}

// jobOptions are the run's settings: the server's defaults, the request's
// choices, and the server's report, history, lock and progress wiring.
func (s *Server) jobOptions(rec *importRecord, resume bool) job.Options {
	o := s.cfg.Import
	o.Rule = rec.Rule
	o.Read.Sheet = rec.Sheet
	if m := importerMap(rec.Mapping); len(m) > 0 {
		o.Read.Map = m
	}
	o.MaxInvalid, _ = job.ParseLimit(rec.MaxInvalid) // checked by newImport
	o.Force, o.Resume = rec.Force, resume
	o.Report, o.ReportFormat = rec.Report, reports.CSV
	o.Attention, o.AttentionFormat = rec.Attention, reports.CSV
	o.History, o.Source, o.AppKey = s.history, history.SourceWeb, s.cfg.AppKey
	o.LockDir, o.LockWait, o.Command = s.cfg.DataDir, 0, "m7import serve: import "+rec.File
	o.Now = s.cfg.Now
	// The page's language (Accept-Language): reasons in the report and the
	// attention file follow it exactly as --lang would (NOTES: "language
	// of reasons"); statuses never change.
	o.Lang, _ = i18n.Parse(rec.Lang)
	return o
}

// start runs the import in its own goroutine.
func (s *Server) start(c *api.Client, rec *importRecord, resume bool) *run {
	ctx, cancel := context.WithCancelCause(s.imports.ctx)
	ru := &run{id: rec.ID, feed: NewFeed(0), cancel: cancel, accepted: make(chan struct{}), finished: make(chan struct{})}
	s.imports.mu.Lock()
	s.imports.runs[rec.ID] = ru
	s.imports.mu.Unlock()
	s.imports.wg.Add(1)

	opts := s.jobOptions(rec, resume)
	began := s.cfg.Now()
	var (
		mu   sync.Mutex
		last time.Time
	)
	opts.Progress = func(p pipeline.Progress) {
		ru.accept()
		mu.Lock()
		defer mu.Unlock()
		now := s.cfg.Now()
		if now.Sub(last) < progressEvery {
			return
		}
		last = now
		ru.feed.Publish(EventProgress, progressOf(p, now.Sub(began)))
	}
	resolve := func(ctx context.Context) (api.Task, error) {
		t, _, err := job.ResolveTask(ctx, c, job.TaskRef{ID: rec.TaskID})
		return t, err
	}
	go func() {
		defer s.imports.wg.Done()
		defer cancel(nil)
		sum, err := job.File(ctx, c, resolve, rec.Input, opts)
		ru.sum, ru.err = sum, err
		stopped := context.Cause(ctx)
		final := s.finishRecord(rec.ID, sum, err, stopped)
		s.imports.mu.Lock()
		delete(s.imports.runs, rec.ID)
		s.imports.mu.Unlock()
		close(ru.finished)
		if errors.Is(stopped, errShutdown) {
			return // resumed at the next start; the page reconnects then
		}
		if final != nil {
			ru.feed.Finish(EventDone, final.item())
		}
	}()
	return ru
}

// progressEvent is the data of a progress event.
type progressEvent struct {
	Read       int      `json:"read"`
	Valid      int      `json:"valid"`
	Sent       int      `json:"sent"`
	Batches    int      `json:"batches"`
	Retries    int      `json:"retries"`
	Rate       *float64 `json:"rate,omitempty"`
	ETASeconds *float64 `json:"eta_seconds,omitempty"`
	ElapsedMS  int64    `json:"elapsed_ms"`
}

// progressOf computes the rate and time left from the rows sent so far.
func progressOf(p pipeline.Progress, elapsed time.Duration) progressEvent {
	// Valid counts rows as validated, which may trail the rows sent.
	// Total, once the pass before sending counted the valid rows, never
	// moves: the time left is of all of them.
	ev := progressEvent{Read: p.Read, Valid: max(p.Valid, p.Total, p.Done), Sent: p.Done, Batches: p.Batches, Retries: p.Retries,
		ElapsedMS: elapsed.Milliseconds()}
	if secs := elapsed.Seconds(); secs > 0 && p.Done > 0 {
		rate := float64(p.Done) / secs
		eta := float64(ev.Valid-p.Done) / rate
		ev.Rate, ev.ETASeconds = &rate, &eta
	}
	return ev
}

// finishRecord records how a run ended. A run stopped by the server's
// shutdown stays running, to be resumed. A refusal (task locked, content
// already imported) leaves the record for refusal to remove.
func (s *Server) finishRecord(id string, sum job.Summary, err, stopped error) *importRecord {
	s.imports.records.Lock()
	defer s.imports.records.Unlock()
	rec, rerr := s.readRecord(id)
	if rerr != nil {
		s.cfg.Logger.Error("import record lost", "id", id, "err", rerr)
		return nil
	}
	if errors.Is(stopped, errShutdown) {
		return rec
	}
	raw, _ := json.Marshal(sum)
	rec.Summary, rec.HistoryID, rec.ExitCode, rec.Error = raw, sum.HistoryID, sum.ExitCode, sum.Error
	switch c := job.CodeOf(err); {
	case errors.Is(stopped, errCancelled):
		rec.State = history.StateCancelled
	case c == job.CodeFailed || c == job.CodeUsage:
		rec.State = history.StateFailed
	default:
		rec.State = history.StateDone
	}
	if err := s.writeRecord(rec); err != nil {
		s.cfg.Logger.Error("record the import's end", "id", id, "err", err)
	}
	return rec
}

// handleCancelImport stops a running import: batches in flight finish,
// the rest is reported skipped, and the import ends cancelled.
func (s *Server) handleCancelImport(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ru := s.active(id)
	if ru == nil {
		if _, err := s.findImport(r.Context(), id); err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeError(w, r, &httpError{status: http.StatusConflict, err: fmt.Errorf("import %s is not running", id)})
		return
	}
	ru.cancel(errCancelled)
	writeJSON(w, http.StatusAccepted, map[string]string{"id": id})
}

func (s *Server) active(id string) *run {
	s.imports.mu.Lock()
	defer s.imports.mu.Unlock()
	return s.imports.runs[id]
}

// handleImportEvents streams a running import's progress, then its done
// event; for a finished import, the done event at once.
func (s *Server) handleImportEvents(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if ru := s.active(id); ru != nil {
		ru.feed.ServeHTTP(w, r)
		return
	}
	rec, err := s.findImport(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f := NewFeed(0)
	f.Finish(EventDone, rec.item())
	f.ServeHTTP(w, r)
}

// handleImports lists past and running imports, newest first: the web's
// own and those the history holds from the command line and the inbox.
func (s *Server) handleImports(w http.ResponseWriter, r *http.Request) {
	recs, err := s.allImports(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]map[string]any, 0, len(recs))
	for _, rec := range recs {
		out = append(out, rec.item())
	}
	writeJSON(w, http.StatusOK, out)
}

// handleImport answers one import.
func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) {
	rec, err := s.findImport(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rec.item())
}

// item is the import as the API shows it: every key of `import --json`
// (zero while running), overlaid with the web's own.
func (rec *importRecord) item() map[string]any {
	m := map[string]any{}
	zero, _ := json.Marshal(job.Summary{})
	json.Unmarshal(zero, &m)
	if len(rec.Summary) > 0 {
		json.Unmarshal(rec.Summary, &m)
	}
	m["id"] = rec.ID
	m["state"] = rec.State
	m["file"] = rec.File
	m["task_id"] = rec.TaskID
	m["task_name"] = rec.TaskName
	m["started_at"] = rec.StartedAt
	m["exit_code"] = rec.ExitCode
	m["rolled_back"] = rec.RolledBack
	if rec.RolledBack {
		m["deleted"] = rec.Deleted
	}
	if rec.HistoryID != 0 {
		m["history_id"] = rec.HistoryID
	}
	if rec.Error != "" {
		m["error"] = rec.Error
	} else {
		delete(m, "error")
	}
	return m
}

// allImports are the web's records and the history's other entries,
// newest first.
func (s *Server) allImports(ctx context.Context) ([]*importRecord, error) {
	recs, err := s.webRecords()
	if err != nil {
		return nil, err
	}
	entries, err := s.history.List(ctx, history.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("read the import history: %w", err)
	}
	for _, e := range entries {
		if s.ownReport(e.Report) != "" {
			continue // one of the web's, listed from its record
		}
		recs = append(recs, s.fromHistory(e))
	}
	slices.SortStableFunc(recs, func(a, b *importRecord) int { return b.StartedAt.Compare(a.StartedAt) })
	return recs, nil
}

// webRecords reads every web import's record.
func (s *Server) webRecords() ([]*importRecord, error) {
	ents, err := os.ReadDir(s.imports.dir)
	if err != nil {
		return nil, fmt.Errorf("read the imports: %w", err)
	}
	var out []*importRecord
	for _, e := range ents {
		if !e.IsDir() || !webImportID.MatchString(e.Name()) {
			continue
		}
		rec, err := s.readRecord(e.Name())
		if err != nil {
			continue // a folder being created or removed
		}
		out = append(out, rec)
	}
	return out, nil
}

// findImport finds an import by its API id.
func (s *Server) findImport(ctx context.Context, id string) (*importRecord, error) {
	switch {
	case webImportID.MatchString(id):
		rec, err := s.readRecord(id)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("import %s: %w", id, errNotFound)
		}
		return rec, err
	case historyImportID.MatchString(id):
		n, _ := strconv.ParseInt(id, 10, 64)
		e, err := s.history.Get(ctx, n)
		if errors.Is(err, history.ErrNotFound) {
			return nil, fmt.Errorf("import %s: %w", id, errNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("import %s: read the history: %w", id, err)
		}
		if own := s.ownReport(e.Report); own != "" {
			return s.readRecord(own)
		}
		return s.fromHistory(e), nil
	}
	return nil, fmt.Errorf("import %q: %w", id, errNotFound)
}

// fromHistory is an entry of another front end as a record; a rollback
// done from the page is remembered in DataDir/imports/ID/.
func (s *Server) fromHistory(e history.Entry) *importRecord {
	id := strconv.FormatInt(e.ID, 10)
	rec := &importRecord{ID: id, File: e.FileName, Input: e.File, TaskID: e.TaskID, TaskName: e.TaskName, Rule: api.Rule(e.Rule),
		State: e.State, StartedAt: e.StartedAt, Report: e.Report, Attention: e.Attention, HistoryID: e.ID,
		Summary: e.Summary, ExitCode: e.ExitCode, Error: e.Error}
	if len(rec.Summary) == 0 {
		rec.Summary, _ = json.Marshal(map[string]any{"rows": e.Rows, "valid": e.Valid, "imported": e.Imported,
			"invalid": e.Invalid, "duplicate": e.Duplicate, "failed": e.Failed, "unconfirmed": e.Unconfirmed, "skipped": e.Skipped})
	}
	if mark, err := s.readRecord(id); err == nil {
		rec.RolledBack, rec.Deleted = mark.RolledBack, mark.Deleted
	}
	return rec
}

// apiID is the API id of a history entry.
func (s *Server) apiID(e history.Entry) string {
	if own := s.ownReport(e.Report); own != "" {
		return own
	}
	return strconv.FormatInt(e.ID, 10)
}

// ownReport returns the web import id whose folder holds report, or "".
func (s *Server) ownReport(report string) string {
	if report == "" {
		return ""
	}
	rel, err := filepath.Rel(s.imports.dir, report)
	if err != nil {
		return ""
	}
	dir, _, ok := strings.Cut(filepath.ToSlash(rel), "/")
	if !ok || !webImportID.MatchString(dir) {
		return ""
	}
	return dir
}

func (s *Server) importDir(id string) string { return filepath.Join(s.imports.dir, id) }

func (s *Server) readRecord(id string) (*importRecord, error) {
	b, err := os.ReadFile(filepath.Join(s.importDir(id), recordFile))
	if err != nil {
		return nil, err
	}
	var rec importRecord
	if err := json.Unmarshal(b, &rec); err != nil || rec.ID != id {
		return nil, fmt.Errorf("import %s: its %s is damaged", id, recordFile)
	}
	return &rec, nil
}

// saveRecord writes a new record.
func (s *Server) saveRecord(rec *importRecord) error {
	s.imports.records.Lock()
	defer s.imports.records.Unlock()
	return s.writeRecord(rec)
}

// writeRecord replaces the record atomically; the caller holds records.
func (s *Server) writeRecord(rec *importRecord) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.importDir(rec.ID), 0o700); err != nil {
		return fmt.Errorf("record import %s: %w", rec.ID, err)
	}
	if err := journal.WriteFileAtomic(filepath.Join(s.importDir(rec.ID), recordFile), b); err != nil {
		return fmt.Errorf("record import %s: %w", rec.ID, err)
	}
	return nil
}

// updateRecord changes a record under the records lock.
func (s *Server) updateRecord(id string, change func(*importRecord)) error {
	s.imports.records.Lock()
	defer s.imports.records.Unlock()
	rec, err := s.readRecord(id)
	if err != nil {
		return err
	}
	change(rec)
	return s.writeRecord(rec)
}
