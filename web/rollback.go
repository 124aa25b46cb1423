package web

import (
	"fmt"
	"net/http"
	"path/filepath"

	"github.com/m7import/m7import/deleter"
	"github.com/m7import/m7import/history"
	"github.com/m7import/m7import/reports"
	"github.com/m7import/m7import/rollback"
)

// rollbackRequest is the body of POST /api/imports/{id}/rollback.
type rollbackRequest struct {
	// Force deletes even when the guard refuses (some numbers were in the
	// task before the import), like `m7import rollback --force`.
	Force bool `json:"force"`
}

// rollbackReply is what a rollback did.
type rollbackReply struct {
	deleter.Counts
	// Report is the rollback's own report's file name (next to the
	// import's report).
	Report           string `json:"report,omitempty"`
	NumberTotalAfter *int   `json:"number_total_after,omitempty"`
}

// handleRollback takes an import back through the same code as
// `m7import rollback`: the same guard (409 without force), the task's
// lock and the import journal's (409 while held), one delete per number.
// It runs to the end even if the page goes away (deleting again is safe).
func (s *Server) handleRollback(w http.ResponseWriter, r *http.Request) {
	var req rollbackRequest
	if err := readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	rec, err := s.findImport(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if rec.State == history.StateRunning || s.active(rec.ID) != nil {
		s.writeError(w, r, &httpError{status: http.StatusConflict, err: fmt.Errorf("import %s is still running: cancel it first, or wait until it ends", rec.ID)})
		return
	}
	if rec.Report == "" {
		s.writeError(w, r, &httpError{status: http.StatusConflict, err: fmt.Errorf("import %s wrote no report: there is nothing to roll back", rec.ID)})
		return
	}
	c, err := s.apiClient()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	o := s.cfg.Import
	d, err := deleter.New(c, deleter.Config{MaxRetries: o.MaxRetries, InitialInterval: o.RetryInitial, MaxInterval: o.RetryMax})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	path, format, err := reports.SidePath(rec.Report, "", "", ".rollback")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sum, err := rollback.Run(s.imports.ctx, c, d, rec.Report, rollback.Options{
		Force: req.Force, ReportPath: path, ReportFormat: format, History: s.history, Now: s.cfg.Now,
		LockDir: s.cfg.DataDir, AppKey: s.cfg.AppKey, LockWait: 0, Command: "m7import serve: rollback of " + rec.File,
		Timeout: o.Timeout,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res := sum.Result
	if sum.Plan.Selected > 0 {
		done := res.Stopped == nil && res.Failed+res.Skipped == 0
		if err := s.markRolledBack(rec, res.Deleted, done); err != nil {
			s.cfg.Logger.Error("record the rollback", "id", rec.ID, "err", err)
		}
	}
	if res.Stopped != nil {
		s.writeError(w, r, fmt.Errorf("rollback stopped after %d numbers: %w (see %s; rolling back again is safe)", res.Deleted, res.Stopped, filepath.Base(path)))
		return
	}
	reply := rollbackReply{Counts: res.Counts, NumberTotalAfter: sum.NumberTotalAfter}
	if sum.ReportPath != "" {
		reply.Report = filepath.Base(sum.ReportPath)
	}
	writeJSON(w, http.StatusOK, reply)
}

// markRolledBack remembers a rollback in the import's record (for an
// import of another front end, in a record of its own); rollback.Run also
// records it in the shared history.
func (s *Server) markRolledBack(rec *importRecord, deleted int, done bool) error {
	s.imports.records.Lock()
	defer s.imports.records.Unlock()
	cur, err := s.readRecord(rec.ID)
	if err != nil {
		if webImportID.MatchString(rec.ID) {
			return err
		}
		cur = &importRecord{ID: rec.ID, State: rec.State, StartedAt: rec.StartedAt}
	}
	cur.Deleted += deleted
	cur.RolledBack = done
	return s.writeRecord(cur)
}
