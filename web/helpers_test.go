package web_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
	"github.com/m7import/m7import/job"
	"github.com/m7import/m7import/web"
)

// sample is the repository's sample lead file (4,500 rows, some invalid,
// some duplicate).
const sample = "../testdata/sample/leads.csv"

// env is a web server over real HTTP, backed by the simulator.
type env struct {
	// simURL is the simulator's address; client builds a client for it,
	// and importOpts are the server's import settings.
	simURL     string
	client     func() (*api.Client, error)
	importOpts job.Options

	sim   *sim.Server
	srv   *web.Server
	url   string
	token string
	dir   string
}

// newEnv starts the simulator and the web server; edit adjusts the web
// config (nil Client = checks only).
func newEnv(t *testing.T, edit func(*web.Config)) *env {
	t.Helper()
	s := sim.New(sim.Config{AppKey: "test-key", Secret: "test-secret", Seed: 1})
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	cfg := web.Config{
		Addr:    "127.0.0.1:0",
		DataDir: t.TempDir(),
		AppKey:  "test-key",
		Client: func() (*api.Client, error) {
			return api.New(api.Config{BaseURL: hs.URL, AppKey: "test-key", Secret: "test-secret"})
		},
	}
	if edit != nil {
		edit(&cfg)
	}
	srv, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ws := httptest.NewServer(srv.Handler())
	t.Cleanup(ws.Close)
	return &env{sim: s, srv: srv, url: ws.URL, token: srv.Token(), dir: cfg.DataDir, simURL: hs.URL, client: cfg.Client, importOpts: cfg.Import}
}

// do sends a request with the token header (unless token is "") and
// returns the status and body.
func (e *env) do(t *testing.T, method, path, contentType string, body io.Reader, token string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set(web.TokenHeader, token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b
}

// postJSON posts v with the token and decodes the reply into out (when
// not nil).
func (e *env) postJSON(t *testing.T, path string, v, out any) int {
	t.Helper()
	b, _ := json.Marshal(v)
	status, body := e.do(t, "POST", path, "application/json", bytes.NewReader(b), e.token)
	decode(t, body, out)
	return status
}

func (e *env) getJSON(t *testing.T, path string, out any) int {
	t.Helper()
	status, body := e.do(t, "GET", path, "", nil, "")
	decode(t, body, out)
	return status
}

func decode(t *testing.T, body []byte, out any) {
	t.Helper()
	if out == nil {
		return
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("reply is not JSON: %v\n%s", err, body)
	}
}

// upload sends content as the multipart field "file" named name.
func (e *env) upload(t *testing.T, name string, content []byte) (int, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	mw.Close()
	return e.do(t, "POST", "/api/files", mw.FormDataContentType(), &buf, e.token)
}

// uploadOK uploads and decodes the 201 reply.
func (e *env) uploadOK(t *testing.T, name string, content []byte) fileReply {
	t.Helper()
	status, body := e.upload(t, name, content)
	if status != http.StatusCreated {
		t.Fatalf("upload %s: status %d, want 201: %s", name, status, body)
	}
	var f fileReply
	decode(t, body, &f)
	return f
}

type fileReply struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Size     int64             `json:"size"`
	Format   string            `json:"format"`
	Encoding string            `json:"encoding"`
	Sheets   []string          `json:"sheets"`
	Sheet    string            `json:"sheet"`
	Headers  []string          `json:"headers"`
	Mapping  map[string]string `json:"mapping"`
	Preview  [][]string        `json:"preview"`
}

type problemReply struct {
	Row    int    `json:"row"`
	Name   string `json:"name"`
	Number string `json:"number"`
	Status string `json:"status"`
	Reason string `json:"reason"`
}

type checkReply struct {
	Rows          int            `json:"rows"`
	Valid         int            `json:"valid"`
	Invalid       int            `json:"invalid"`
	Duplicate     int            `json:"duplicate"`
	Problems      []problemReply `json:"problems"`
	ProblemsTotal int            `json:"problems_total"`
}

type errorReply struct {
	Error string `json:"error"`
	Field string `json:"field"`
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var tokenMeta = regexp.MustCompile(`<meta name="m7-token" content="([^"]+)">`)

// pageToken loads the page and reads its token, as the page's script does.
func (e *env) pageToken(t *testing.T) string {
	t.Helper()
	status, body := e.do(t, "GET", "/", "", nil, "")
	if status != http.StatusOK {
		t.Fatalf("GET /: status %d: %s", status, body)
	}
	m := tokenMeta.FindSubmatch(body)
	if m == nil {
		t.Fatalf("the page has no m7-token meta:\n%s", body)
	}
	return string(m[1])
}

// xlsxFile builds a minimal workbook: sheets of inline-string rows, and
// optionally a shared-strings part.
func xlsxFile(t *testing.T, sheets map[string][][]string, order []string, sst []string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	put := func(name, body string) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	const hdr = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`
	ct := hdr + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>`
	wb := hdr + `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>`
	rels := hdr + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`
	for i, name := range order {
		ct += fmt.Sprintf(`<Override PartName="/xl/worksheets/sheet%d.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`, i+1)
		wb += fmt.Sprintf(`<sheet name="%s" sheetId="%d" r:id="rId%d"/>`, name, i+1, i+10)
		rels += fmt.Sprintf(`<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>`, i+10, i+1)
		var data strings.Builder
		for r, row := range sheets[name] {
			fmt.Fprintf(&data, `<row r="%d">`, r+1)
			for c, v := range row {
				if strings.HasPrefix(v, "sst:") {
					fmt.Fprintf(&data, `<c r="%c%d" t="s"><v>%s</v></c>`, 'A'+c, r+1, v[4:])
					continue
				}
				fmt.Fprintf(&data, `<c r="%c%d" t="inlineStr"><is><t>%s</t></is></c>`, 'A'+c, r+1, v)
			}
			data.WriteString(`</row>`)
		}
		put(fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1), hdr+`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`+data.String()+`</sheetData></worksheet>`)
	}
	put("[Content_Types].xml", ct+`</Types>`)
	put("_rels/.rels", hdr+`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	put("xl/workbook.xml", wb+`</sheets></workbook>`)
	if sst != nil {
		rels += `<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>`
		put("xl/sharedStrings.xml", hdr+fmt.Sprintf(`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d"><si>`, len(sst), len(sst))+strings.Join(sst, "</si><si>")+`</si></sst>`)
	}
	put("xl/_rels/workbook.xml.rels", rels+`</Relationships>`)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
