package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/job"
	"github.com/m7import/m7import/journal"
	"github.com/m7import/m7import/rollback"
	"github.com/m7import/m7import/tasklock"
	"github.com/m7import/m7import/tasks"
)

// maxJSONBody bounds a JSON request body.
const maxJSONBody = 1 << 20

// Errors the handlers return; statusOf maps them (and the other packages'
// sentinels) to a status code.
var (
	errNotFound  = errors.New("not found")
	errForbidden = errors.New("forbidden")
	errNoAPI     = &httpError{status: http.StatusServiceUnavailable,
		err: errors.New("this server only checks files: it has no 7moor API configured (set M7_APPKEY and M7_SECRET, or start it with --demo)")}
)

// httpError carries its own status and, when one request field is to
// blame, the field's name.
type httpError struct {
	status int
	field  string
	err    error
	// importID names the earlier import a 409 is about.
	importID string
}

func (e *httpError) Error() string { return e.err.Error() }
func (e *httpError) Unwrap() error { return e.err }

// fieldErr blames a request field for err.
func fieldErr(field string, err error) error {
	return &httpError{field: field, err: err}
}

// badRequest is a 400 naming the field.
func badRequest(field, format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, field: field, err: fmt.Errorf(format, args...)}
}

// errorBody is every error reply.
type errorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
	// ImportID names the earlier import that makes a new one a conflict
	// (content already imported): the page offers "import anyway".
	ImportID string `json:"import_id,omitempty"`
}

// statusOf is the one place that decides an error's status code.
func statusOf(err error) int {
	var he *httpError
	if errors.As(err, &he) && he.status != 0 {
		return he.status
	}
	var mbe *http.MaxBytesError
	var ae *api.Error
	switch {
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errNotFound), errors.Is(err, tasks.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, errForbidden):
		return http.StatusForbidden
	case errors.Is(err, tasks.ErrExists), errors.Is(err, tasks.ErrAmbiguous),
		errors.Is(err, job.ErrAlreadyImported), errors.Is(err, tasklock.ErrHeld),
		errors.Is(err, journal.ErrLocked), errors.Is(err, rollback.ErrGuard):
		return http.StatusConflict
	case errors.Is(err, rollback.ErrTaskGone):
		return http.StatusNotFound
	case errors.Is(err, rollback.ErrNoMeta):
		return http.StatusUnprocessableEntity
	case errors.Is(err, importer.ErrUnsupportedFormat):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, importer.ErrBadOption), errors.Is(err, importer.ErrSheetNotFound):
		return http.StatusBadRequest
	case errors.Is(err, importer.ErrNoNumberColumn), errors.Is(err, importer.ErrEmptyFile),
		errors.Is(err, importer.ErrCorruptFile), errors.Is(err, importer.ErrTooLarge):
		return http.StatusUnprocessableEntity
	case errors.As(err, &ae):
		// The vendor refused or failed: the gateway's fault, not the page's.
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}

// fieldOf names the request field an error blames, if any.
func fieldOf(err error) string {
	var he *httpError
	if errors.As(err, &he) && he.field != "" {
		return he.field
	}
	switch {
	case errors.Is(err, importer.ErrSheetNotFound):
		return "sheet"
	case errors.Is(err, importer.ErrNoNumberColumn):
		return "mapping"
	}
	return ""
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v) // the client may be gone; nothing to do about it
}

// writeError writes err as {"error", "field"} with its status, and logs
// server-side failures.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if status >= 500 {
		s.cfg.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	body := errorBody{Error: err.Error(), Field: fieldOf(err)}
	var he *httpError
	if errors.As(err, &he) {
		body.ImportID = he.importID
	}
	writeJSON(w, status, body)
}

// readJSON decodes a JSON body into v. An empty body leaves v as it is
// (every field of this API's bodies is optional or checked later).
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body := http.MaxBytesReader(w, r.Body, maxJSONBody)
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil && err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &httpError{status: http.StatusRequestEntityTooLarge, err: fmt.Errorf("request body over %d bytes", maxJSONBody)}
		}
		return badRequest("", "request body is not the JSON this endpoint takes: %v", err)
	}
	return nil
}

// handleNoRoute answers unknown API paths with a JSON 404 (or 405).
func (s *Server) handleNoRoute(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, fmt.Errorf("%s %s: %w", r.Method, r.URL.Path, errNotFound))
}
