package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
)

//go:embed assets
var assetFS embed.FS

// page is the embedded page: index.html as a template (it carries the
// token and the upload limit) and the static files beside it.
type page struct {
	tmpl   *template.Template
	static fs.FS
}

func newPage() (*page, error) {
	tmpl, err := template.ParseFS(assetFS, "assets/index.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse the page template: %w", err)
	}
	static, err := fs.Sub(assetFS, "assets")
	if err != nil {
		return nil, fmt.Errorf("web: embedded assets: %w", err)
	}
	return &page{tmpl: tmpl, static: static}, nil
}

// assets serves the page's CSS and JS under /assets/.
func (p *page) assets() http.Handler {
	files := http.StripPrefix("/assets/", http.FileServerFS(p.static))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}

// pageData is what index.html is rendered with.
type pageData struct {
	Token     string
	MaxUpload int64
	// CanImport is false when the server has no API client (checks only).
	CanImport bool
}

// handlePage renders the page with the token in <meta name="m7-token">.
func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	err := s.page.tmpl.Execute(&buf, pageData{Token: s.cfg.Token, MaxUpload: s.cfg.MaxUpload, CanImport: s.cfg.Client != nil})
	if err != nil {
		s.writeError(w, r, fmt.Errorf("render the page: %w", err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}
