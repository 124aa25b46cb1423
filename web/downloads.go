package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/m7import/m7import/history"
	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/reports"
)

// contentTypes of the downloads, by format.
var contentTypes = map[reports.Format]string{
	reports.CSV:   "text/csv; charset=utf-8",
	reports.XLSX:  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	reports.JSONL: "application/x-ndjson; charset=utf-8",
}

// handleReport serves an import's results report as csv, xlsx or jsonl:
// the run writes csv, and the other formats are written from it row by
// row by the same writers the command line uses, so each is
// byte-for-byte what `import --report-format F` writes.
func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) {
	rec, format, err := s.download(r, "report", false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	path, err := s.reportIn(rec, format)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	serveDownload(w, r, path, format)
}

// handleAttention serves the rows of an import that need attention, in
// the input's own columns plus row, status and reason, as csv or xlsx.
func (s *Server) handleAttention(w http.ResponseWriter, r *http.Request) {
	rec, format, err := s.download(r, "attention file", true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	path, err := s.attentionIn(r.Context(), rec, format)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	serveDownload(w, r, path, format)
}

// download finds the import and the format asked for (?format=, default
// csv) of a file that exists once the import has ended.
func (s *Server) download(r *http.Request, what string, attention bool) (*importRecord, reports.Format, error) {
	name := r.URL.Query().Get("format")
	if name == "" {
		name = "csv"
	}
	format, err := reports.ParseFormat(name)
	if err != nil || attention && format == reports.JSONL {
		want := "csv, xlsx or jsonl"
		if attention {
			want = "csv or xlsx"
		}
		return nil, "", badRequest("format", "format %q: want %s", name, want)
	}
	rec, err := s.findImport(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, "", err
	}
	if rec.State == history.StateRunning || s.active(rec.ID) != nil {
		return nil, "", &httpError{status: http.StatusConflict, err: fmt.Errorf("import %s is still running: its %s is written when it ends", rec.ID, what)}
	}
	return rec, format, nil
}

// reportIn returns the import's report in format, writing it from the
// report the run wrote when that has another format.
func (s *Server) reportIn(rec *importRecord, format reports.Format) (string, error) {
	src := rec.Report
	if src == "" {
		return "", fmt.Errorf("import %s wrote no report: %w", rec.ID, errNotFound)
	}
	srcFormat, err := reports.FormatFromPath(src)
	if err == nil && srcFormat == format {
		if _, err := os.Stat(src); err != nil {
			return "", fmt.Errorf("import %s: its report %s is gone: %w", rec.ID, filepath.Base(src), errNotFound)
		}
		return src, nil
	}
	dst := filepath.Join(s.importDir(rec.ID), strings.TrimSuffix(filepath.Base(src), filepath.Ext(src))+"."+string(format))
	if fresh(dst, src) {
		return dst, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return "", err
	}
	rr, err := reports.Open(src)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("import %s: its report %s is gone: %w", rec.ID, filepath.Base(src), errNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("import %s: %w", rec.ID, err)
	}
	defer rr.Close()
	out, err := reports.Create(dst, format)
	if err != nil {
		return "", err
	}
	defer out.Abort()
	for {
		row, err := rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("import %s: read its report: %w", rec.ID, err)
		}
		if err := out.Write(row); err != nil {
			return "", err
		}
	}
	return dst, out.Commit()
}

// attentionIn returns the import's attention file in format: the one the
// run wrote, or one written in the other format from the input's cells
// and the report's outcomes, exactly as the run writes it.
func (s *Server) attentionIn(ctx context.Context, rec *importRecord, format reports.Format) (string, error) {
	if rec.Attention != "" {
		if f, err := reports.FormatFromPath(rec.Attention); err == nil && f == format {
			if _, err := os.Stat(rec.Attention); err == nil {
				return rec.Attention, nil
			}
		}
	}
	if !webImportID.MatchString(rec.ID) || rec.Report == "" || rec.Input == "" {
		return "", fmt.Errorf("import %s wrote no attention file as %s: %w", rec.ID, format, errNotFound)
	}
	dst := filepath.Join(s.importDir(rec.ID), strings.TrimSuffix(filepath.Base(rec.Attention), filepath.Ext(rec.Attention))+"."+string(format))
	if fresh(dst, rec.Report) {
		return dst, nil
	}
	ro := s.jobOptions(rec, false).Read
	ro.KeepCells, ro.KeepRepeats = true, !rec.Rule.DedupesInFile()
	rd, err := importer.Open(ctx, rec.Input, ro)
	if err != nil {
		return "", fmt.Errorf("import %s: read %s again: %w", rec.ID, rec.File, err)
	}
	defer rd.Close()
	numberColumn := -1
	for _, m := range rd.Mapping() {
		if m.Field == importer.FieldNumber {
			numberColumn = m.Column
		}
	}
	rr, err := reports.Open(rec.Report)
	if err != nil {
		return "", fmt.Errorf("import %s: %w", rec.ID, err)
	}
	defer rr.Close()
	aw, err := reports.CreateAttention(dst, format, rd.Header(), numberColumn)
	if err != nil {
		return "", err
	}
	defer aw.Abort()
	for {
		out, err := rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("import %s: read its report: %w", rec.ID, err)
		}
		in, err := rd.Next()
		if err != nil || in.Row != out.Row {
			return "", fmt.Errorf("import %s: %s no longer matches its report at row %d (%v): download the csv", rec.ID, rec.File, out.Row, err)
		}
		out.Cells = in.Cells
		if err := aw.Write(out); err != nil {
			return "", err
		}
	}
	return dst, aw.Commit()
}

// fresh reports whether dst exists and is not older than src.
func fresh(dst, src string) bool {
	d, err := os.Stat(dst)
	if err != nil {
		return false
	}
	sst, err := os.Stat(src)
	return err == nil && !d.ModTime().Before(sst.ModTime())
}

// serveDownload sends the file as an attachment named after it.
func serveDownload(w http.ResponseWriter, r *http.Request, path string, format reports.Format) {
	f, err := os.Open(path)
	if err != nil {
		http.Error(w, "the file is gone", http.StatusNotFound)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		http.Error(w, "the file is gone", http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentTypes[format])
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filepath.Base(path)}))
	h.Set("Cache-Control", "no-store")
	http.ServeContent(w, r, "", st.ModTime(), f)
}
