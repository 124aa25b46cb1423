package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/m7import/m7import/importer"
)

// Preview bounds: the first rows shown, and the columns they show.
const (
	previewRows = 10
	previewCols = 30
)

// fileMeta is what an upload's folder remembers about it (meta.json), so
// that uploads survive a restart.
type fileMeta struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Size     int64     `json:"size"`
	Uploaded time.Time `json:"uploaded"`
}

// mapping is the column each field is read from: a header text, or the
// column's 1-based position as digits; "" means detected.
type mapping struct {
	Name        string `json:"name"`
	Number      string `json:"number"`
	Remark      string `json:"remark"`
	AgentNumber string `json:"agentNumber"`
}

// fileInfo is the reply of POST /api/files and GET /api/files/{id}.
type fileInfo struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Size     int64    `json:"size"`
	Format   string   `json:"format"`
	Encoding string   `json:"encoding"`
	Sheets   []string `json:"sheets"`
	Sheet    string   `json:"sheet"`
	Headers  []string `json:"headers"`
	// HeaderRow is the row the header was found on; Notes say what the
	// importer noticed (rows skipped above the header, the sheet chosen).
	HeaderRow int        `json:"header_row"`
	Notes     []string   `json:"notes"`
	Mapping   mapping    `json:"mapping"`
	Preview   [][]string `json:"preview"`
	// MaxUpload is the server's upload limit, for the page to show.
	MaxUpload int64 `json:"max_upload"`
}

var idPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

// handleUpload streams the multipart field "file" to DataDir/uploads/ID/,
// never holding it in memory, and answers what was detected. A file the
// importer refuses is removed and the refusal returned.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	info, err := s.upload(r.Context(), w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, info)
}

func (s *Server) upload(ctx context.Context, w http.ResponseWriter, r *http.Request) (*fileInfo, error) {
	limit := s.cfg.MaxUpload
	tooLarge := &httpError{status: http.StatusRequestEntityTooLarge, field: "file",
		err: fmt.Errorf("the file is larger than the %s limit: split it, or save it as .xlsx or .csv without unused columns", sizeText(limit))}
	if r.ContentLength > limit+1<<20 {
		return nil, tooLarge
	}
	// The multipart envelope adds a little to the file itself.
	r.Body = http.MaxBytesReader(w, r.Body, limit+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, badRequest("file", "send the file as multipart/form-data in the field \"file\": %v", err)
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, badRequest("file", "no field \"file\" in the upload")
		}
		if err != nil {
			if errors.As(err, new(*http.MaxBytesError)) {
				return nil, tooLarge
			}
			return nil, badRequest("file", "read the upload: %v", err)
		}
		if part.FormName() != "file" {
			part.Close()
			continue
		}
		name := safeName(part.FileName())
		if name == "" {
			return nil, badRequest("file", "the upload has no file name: the name's extension (.csv, .tsv, .txt, .xlsx) says how to read it")
		}
		meta, err := s.store(part, name, limit)
		if err != nil {
			if errors.As(err, new(*http.MaxBytesError)) {
				return nil, tooLarge
			}
			return nil, err
		}
		info, err := s.inspect(ctx, meta, "")
		if err != nil {
			os.RemoveAll(s.fileDir(meta.ID))
			return nil, err
		}
		return info, nil
	}
}

// store writes one uploaded file and its meta.json into a new folder.
func (s *Server) store(src io.Reader, name string, limit int64) (*fileMeta, error) {
	id, err := newID()
	if err != nil {
		return nil, err
	}
	dir := s.fileDir(id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("save the upload: %w", err)
	}
	fail := func(err error) (*fileMeta, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fail(fmt.Errorf("save the upload: %w", err))
	}
	n, err := io.Copy(f, io.LimitReader(src, limit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(err)
	}
	if n > limit {
		return fail(&httpError{status: http.StatusRequestEntityTooLarge, field: "file",
			err: fmt.Errorf("%s is larger than the %s limit: split it, or save it as .xlsx or .csv without unused columns", name, sizeText(limit))})
	}
	meta := &fileMeta{ID: id, Name: name, Size: n, Uploaded: s.cfg.Now().UTC()}
	b, _ := json.Marshal(meta)
	if err := os.WriteFile(filepath.Join(dir, "meta.json"), b, 0o600); err != nil {
		return fail(fmt.Errorf("save the upload: %w", err))
	}
	return meta, nil
}

// handleFile answers what was detected in an upload, for another sheet
// with ?sheet=.
func (s *Server) handleFile(w http.ResponseWriter, r *http.Request) {
	meta, err := s.lookup(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	info, err := s.inspect(r.Context(), meta, r.URL.Query().Get("sheet"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

// lookup finds an upload by id.
func (s *Server) lookup(id string) (*fileMeta, error) {
	if !idPattern.MatchString(id) {
		return nil, fmt.Errorf("file %q: %w", id, errNotFound)
	}
	b, err := os.ReadFile(filepath.Join(s.fileDir(id), "meta.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("file %s: %w (upload it again)", id, errNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("file %s: %w", id, err)
	}
	var m fileMeta
	if err := json.Unmarshal(b, &m); err != nil || m.ID != id || safeName(m.Name) != m.Name {
		return nil, fmt.Errorf("file %s: its meta.json is damaged: upload it again", id)
	}
	return &m, nil
}

func (s *Server) fileDir(id string) string { return filepath.Join(s.uploads, id) }

func (s *Server) filePath(m *fileMeta) string { return filepath.Join(s.fileDir(m.ID), m.Name) }

// inspect opens the upload with the importer and reports what it detected:
// the importer's own sheet choice, header row, mapping and encoding, and
// its first rows as it reads them (no second parser here).
func (s *Server) inspect(ctx context.Context, m *fileMeta, sheet string) (*fileInfo, error) {
	path := s.filePath(m)
	info := &fileInfo{ID: m.ID, Name: m.Name, Size: m.Size, Format: formatOf(m.Name), Sheets: []string{}, MaxUpload: s.cfg.MaxUpload}
	// Rule 2: no dedupe set is needed to look at the first rows.
	rd, err := importer.Open(ctx, path, importer.Options{Sheet: sheet, KeepRepeats: true, KeepCells: true})
	if err != nil {
		return nil, s.userError(m, err)
	}
	defer rd.Close()
	info.Headers, info.HeaderRow, info.Notes = rd.Header(), rd.HeaderRow(), rd.Notes()
	if info.Headers == nil {
		info.Headers = []string{}
	}
	if info.Notes == nil {
		info.Notes = []string{}
	}
	cols := rd.Columns()
	info.Mapping = mapping{Name: cols[importer.FieldName], Number: cols[importer.FieldNumber],
		Remark: cols[importer.FieldRemark], AgentNumber: cols[importer.FieldAgentNumber]}
	if sheets := rd.Sheets(); sheets != nil {
		info.Sheets = sheets
	}
	info.Sheet, info.Encoding = rd.Sheet(), rd.Encoding()
	ncols := min(len(info.Headers), previewCols)
	info.Preview = [][]string{}
	for len(info.Preview) < previewRows {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, s.userError(m, err)
		}
		row := make([]string, ncols)
		for i := range row {
			if i < len(rec.Cells) {
				row[i] = strings.TrimSpace(rec.Cells[i])
			}
		}
		info.Preview = append(info.Preview, row)
	}
	return info, nil
}

// userError names the upload by its own name instead of the server's path.
func (s *Server) userError(m *fileMeta, err error) error {
	msg := strings.ReplaceAll(err.Error(), s.filePath(m), m.Name)
	if msg == err.Error() {
		return err
	}
	return &renamedError{msg: msg, err: err}
}

// renamedError rewords an error's text and keeps what it wraps.
type renamedError struct {
	msg string
	err error
}

func (e *renamedError) Error() string { return e.msg }
func (e *renamedError) Unwrap() error { return e.err }

// formatOf names the file's format by its extension, as the importer
// reads it.
func formatOf(name string) string {
	switch ext := strings.ToLower(filepath.Ext(name)); ext {
	case ".xlsx", ".xlsm":
		return "xlsx"
	case ".csv", ".tsv", ".txt":
		return ext[1:]
	default:
		return strings.TrimPrefix(ext, ".")
	}
}

// safeName keeps an uploaded file's base name, without path parts or
// control characters; "" when nothing usable is left.
func safeName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError || strings.ContainsRune(`<>:"|?*`, r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == ".." || name == "meta.json" || strings.HasPrefix(name, ".") {
		return ""
	}
	if len(name) > 200 {
		ext := filepath.Ext(name)
		if len(ext) > 10 {
			ext = ""
		}
		name = strings.ToValidUTF8(name[:200-len(ext)], "") + ext
	}
	return name
}

func newID() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make an id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// sizeText writes a byte count for people: 100 MB, 512 KB.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MB"
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
	case n >= 1<<10:
		return strconv.FormatInt(n>>10, 10) + " KB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
