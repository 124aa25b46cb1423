package web_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/web"
)

func TestUploadDetectsFormatMappingAndPreview(t *testing.T) {
	e := newEnv(t, nil)
	f := e.uploadOK(t, "leads.csv", readFile(t, sample))
	if f.Name != "leads.csv" || f.Format != "csv" || f.Encoding != "utf-8" || f.Size == 0 || len(f.ID) != 16 {
		t.Errorf("reply = %+v", f)
	}
	wantHeaders := []string{"姓名", "手机号码", "备注", "座席工号"}
	if !reflect.DeepEqual(f.Headers, wantHeaders) {
		t.Errorf("headers = %q, want %q", f.Headers, wantHeaders)
	}
	wantMap := map[string]string{"name": "姓名", "number": "手机号码", "remark": "备注", "agentNumber": "座席工号"}
	if !reflect.DeepEqual(f.Mapping, wantMap) {
		t.Errorf("mapping = %v, want %v", f.Mapping, wantMap)
	}
	if len(f.Preview) != 10 {
		t.Fatalf("preview has %d rows, want 10", len(f.Preview))
	}
	if want := []string{"彭建丹", "156-9553-6418", "", "2001"}; !reflect.DeepEqual(f.Preview[0], want) {
		t.Errorf("first preview row = %q, want %q", f.Preview[0], want)
	}
	if want := []string{"唐斌", "191 7876 1178", "勿在午休时间拨打", ""}; !reflect.DeepEqual(f.Preview[1], want) {
		t.Errorf("second preview row = %q, want %q", f.Preview[1], want)
	}
}

func TestUploadXLSXListsSheets(t *testing.T) {
	e := newEnv(t, nil)
	book := xlsxFile(t, map[string][][]string{
		"说明": {{"电话", "说明"}, {"13900139000", "另一张"}},
		"名单": {{"姓名", "备注", "电话", "地区"}, {"张三", "老客户", "13800138000", "上海"}},
	}, []string{"名单", "说明"}, nil)
	f := e.uploadOK(t, "book.xlsx", book)
	if f.Format != "xlsx" || !reflect.DeepEqual(f.Sheets, []string{"名单", "说明"}) || f.Sheet != "名单" {
		t.Errorf("format %q sheets %q sheet %q", f.Format, f.Sheets, f.Sheet)
	}
	if f.Mapping["number"] != "电话" || f.Mapping["name"] != "姓名" {
		t.Errorf("mapping = %v", f.Mapping)
	}
	if want := [][]string{{"张三", "老客户", "13800138000", "上海"}}; !reflect.DeepEqual(f.Preview, want) {
		t.Errorf("preview = %q, want %q", f.Preview, want)
	}
	var other fileReply
	if status := e.getJSON(t, "/api/files/"+f.ID+"?sheet="+"%E8%AF%B4%E6%98%8E", &other); status != 200 {
		t.Fatalf("GET the other sheet: status %d", status)
	}
	if other.Sheet != "说明" || other.Headers[1] != "说明" || !reflect.DeepEqual(other.Preview, [][]string{{"13900139000", "另一张"}}) {
		t.Errorf("other sheet: %+v", other)
	}
}

func TestUploadOverTheLimitIs413(t *testing.T) {
	e := newEnv(t, func(c *web.Config) { c.MaxUpload = 1024 })
	status, body := e.upload(t, "leads.csv", readFile(t, sample))
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413: %s", status, body)
	}
	var er errorReply
	decode(t, body, &er)
	if !strings.Contains(er.Error, "1 KB") || er.Field != "file" {
		t.Errorf("error = %+v, want the limit named and field file", er)
	}
	// Just under the limit is fine.
	small := []byte("姓名,手机\n张三,13800138000\n")
	if status, body := e.upload(t, "small.csv", small); status != http.StatusCreated {
		t.Errorf("small file: status %d: %s", status, body)
	}
}

func TestHostileUploadsAreRefusedAndTheServerKeepsServing(t *testing.T) {
	e := newEnv(t, nil)
	hugeString := xlsxFile(t, map[string][][]string{"S": {{"电话"}, {"sst:0"}}}, []string{"S"},
		[]string{"<t>" + strings.Repeat("x", 200000) + "</t>"})
	cases := []struct {
		name    string
		content []byte
		status  int
		say     string
	}{
		{"old.xls", []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 binary"), http.StatusUnsupportedMediaType, "save as .xlsx or .csv"},
		{"notes.docx", []byte("whatever"), http.StatusUnsupportedMediaType, "unsupported"},
		{"fake.xlsx", []byte("this is not a zip at all"), http.StatusUnprocessableEntity, "fake.xlsx"},
		{"huge-string.xlsx", hugeString, http.StatusUnprocessableEntity, "too large"},
		{"nonumber.csv", []byte("姓名,地址\n张三,上海\n"), http.StatusUnprocessableEntity, "no number column"},
		{"empty.csv", nil, http.StatusUnprocessableEntity, "empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := e.upload(t, c.name, c.content)
			var er errorReply
			decode(t, body, &er)
			if status != c.status || !strings.Contains(strings.ToLower(er.Error), strings.ToLower(c.say)) {
				t.Errorf("status %d %q, want %d saying %q", status, er.Error, c.status, c.say)
			}
			if strings.Contains(er.Error, e.dir) {
				t.Errorf("the error shows the server's path: %q", er.Error)
			}
			if tok := e.pageToken(t); tok != e.token {
				t.Errorf("page token %q, want %q", tok, e.token)
			}
		})
	}
}

func TestCheckCountsAndProblemsMatchTheImporter(t *testing.T) {
	e := newEnv(t, nil)
	f := e.uploadOK(t, "leads.csv", readFile(t, sample))

	// What the importer itself says of the file, under rule 1.
	rd, err := importer.Open(context.Background(), sample, importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var want checkReply
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		want.Rows++
		switch rec.Status {
		case importer.Valid:
			want.Valid++
			continue
		case importer.Invalid:
			want.Invalid++
		case importer.Duplicate:
			want.Duplicate++
		}
		want.Problems = append(want.Problems, problemReply{Row: rec.Row, Name: rec.Name, Number: rec.Number, Status: string(rec.Status), Reason: rec.Reason})
	}
	rd.Close()
	if want.Invalid == 0 || want.Duplicate == 0 {
		t.Fatalf("the sample should have invalid and duplicate rows: %+v", want)
	}

	// All pages together are the importer's problems, in input order.
	var got []problemReply
	for offset := 0; ; offset += 37 {
		var c checkReply
		if status := e.postJSON(t, "/api/files/"+f.ID+"/check?limit=37&offset="+itoa(offset), map[string]any{}, &c); status != 200 {
			t.Fatalf("check: status %d", status)
		}
		if c.Rows != want.Rows || c.Valid != want.Valid || c.Invalid != want.Invalid || c.Duplicate != want.Duplicate || c.ProblemsTotal != len(want.Problems) {
			t.Fatalf("counts %d/%d/%d/%d (%d problems), want %d/%d/%d/%d (%d)", c.Rows, c.Valid, c.Invalid, c.Duplicate, c.ProblemsTotal,
				want.Rows, want.Valid, want.Invalid, want.Duplicate, len(want.Problems))
		}
		if len(c.Problems) == 0 {
			break
		}
		if len(c.Problems) > 37 {
			t.Fatalf("page of %d problems, limit 37", len(c.Problems))
		}
		got = append(got, c.Problems...)
	}
	if !reflect.DeepEqual(got, want.Problems) {
		t.Errorf("problems differ from the importer's: got %d, want %d; first got %+v want %+v", len(got), len(want.Problems), got[0], want.Problems[0])
	}

	// Under rule 2 no row is a duplicate.
	var r2 checkReply
	e.postJSON(t, "/api/files/"+f.ID+"/check", map[string]any{"rule": 2}, &r2)
	if r2.Duplicate != 0 || r2.Valid != want.Valid+want.Duplicate {
		t.Errorf("rule 2: %d duplicate, %d valid; want 0 and %d", r2.Duplicate, r2.Valid, want.Valid+want.Duplicate)
	}
}

func TestCheckFollowsTheMapping(t *testing.T) {
	e := newEnv(t, nil)
	f := e.uploadOK(t, "leads.csv", readFile(t, sample))
	var byName checkReply
	status := e.postJSON(t, "/api/files/"+f.ID+"/check?limit=1", map[string]any{"mapping": map[string]string{"number": "姓名", "name": "手机号码"}}, &byName)
	if status != 200 || byName.Valid != 0 || byName.Invalid != byName.Rows || byName.Problems[0].Number != "彭建丹" {
		t.Errorf("number read from the name column: status %d, %+v", status, byName)
	}
	var byPosition checkReply
	e.postJSON(t, "/api/files/"+f.ID+"/check?limit=1", map[string]any{"mapping": map[string]string{"number": "column 2"}}, &byPosition)
	var detected checkReply
	e.postJSON(t, "/api/files/"+f.ID+"/check?limit=1", map[string]any{}, &detected)
	if byPosition.Valid != detected.Valid || detected.Valid == 0 {
		t.Errorf("column 2 gives %d valid, the detected mapping %d", byPosition.Valid, detected.Valid)
	}

	for _, c := range []struct {
		body  map[string]any
		query string
		field string
	}{
		{map[string]any{"mapping": map[string]string{"number": "传真"}}, "", "mapping"},
		{map[string]any{"rule": 7}, "", "rule"},
		{map[string]any{}, "?limit=0", "limit"},
		{map[string]any{}, "?offset=-1", "offset"},
	} {
		var er errorReply
		if status := e.postJSON(t, "/api/files/"+f.ID+"/check"+c.query, c.body, &er); status != http.StatusBadRequest || er.Field != c.field {
			t.Errorf("%v %s: status %d %+v, want 400 blaming %s", c.body, c.query, status, er, c.field)
		}
	}
	var er errorReply
	if status := e.postJSON(t, "/api/files/0123456789abcdef/check", map[string]any{}, &er); status != http.StatusNotFound {
		t.Errorf("unknown file: status %d, want 404", status)
	}
	if status := e.postJSON(t, "/api/files/..%2f..%2fetc/check", map[string]any{}, &er); status != http.StatusNotFound {
		t.Errorf("a path as id: status %d, want 404", status)
	}
}

func TestStateChangingRequestsNeedThePageToken(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.pageToken(t)
	if tok != e.token {
		t.Fatalf("page token %q, server token %q", tok, e.token)
	}
	for _, c := range []struct {
		name, token string
		want        int
	}{
		{"none", "", http.StatusForbidden},
		{"wrong", "x" + tok, http.StatusForbidden},
		{"page's", tok, http.StatusBadRequest}, // through the guard: the body is empty
	} {
		status, body := e.do(t, "POST", "/api/tasks", "application/json", strings.NewReader(`{}`), c.token)
		if status != c.want {
			t.Errorf("%s token: status %d, want %d: %s", c.name, status, c.want, body)
		}
	}
	// Reads need no token on loopback.
	if status, _ := e.do(t, "GET", "/api/imports", "", nil, ""); status != 200 {
		t.Errorf("GET /api/imports without token: %d", status)
	}
}

func TestForeignHostIsRefused(t *testing.T) {
	e := newEnv(t, nil)
	port := e.url[strings.LastIndex(e.url, ":")+1:]
	for _, c := range []struct {
		host string
		want int
	}{
		{"127.0.0.1:" + port, 200},
		{"localhost:" + port, 200},
		{"[::1]:" + port, 200},
		{"evil.example:" + port, 403},
		{"localhost.evil.example:" + port, 403},
		{"127.0.0.1:1", 403},
	} {
		req, _ := http.NewRequest("GET", e.url+"/", nil)
		req.Host = c.host
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.want {
			t.Errorf("Host %s: status %d, want %d", c.host, res.StatusCode, c.want)
		}
	}
}

func TestOffLoopbackEveryRequestNeedsTheToken(t *testing.T) {
	e := newEnv(t, func(c *web.Config) { c.Addr = "0.0.0.0:0"; c.AllowedHosts = []string{"127.0.0.1"} })
	if e.srv.Loopback() {
		t.Fatal("0.0.0.0 counted as loopback")
	}
	if status, _ := e.do(t, "GET", "/", "", nil, ""); status != http.StatusForbidden {
		t.Errorf("page without token: %d, want 403", status)
	}
	if status, _ := e.do(t, "GET", "/api/imports", "", nil, ""); status != http.StatusForbidden {
		t.Errorf("API without token: %d, want 403", status)
	}
	if status, _ := e.do(t, "GET", "/api/imports", "", nil, e.token); status != 200 {
		t.Errorf("API with the header: %d, want 200", status)
	}
	// The printed URL sets a cookie and drops the token from the address.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(e.url + "/?token=" + e.token)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" || len(res.Cookies()) != 1 {
		t.Fatalf("first load: %d, Location %q, cookies %v", res.StatusCode, res.Header.Get("Location"), res.Cookies())
	}
	req, _ := http.NewRequest("GET", e.url+"/", nil)
	req.AddCookie(res.Cookies()[0])
	res2, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != 200 {
		t.Errorf("page with the cookie: %d", res2.StatusCode)
	}
	// The cookie alone does not allow a state change.
	req, _ = http.NewRequest("POST", e.url+"/api/tasks", strings.NewReader(`{"name":"x"}`))
	req.AddCookie(res.Cookies()[0])
	res3, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res3.Body.Close()
	if res3.StatusCode != http.StatusForbidden {
		t.Errorf("POST with only the cookie: %d, want 403", res3.StatusCode)
	}
}

func TestPageHasSecurityHeadersAndNoExternalResources(t *testing.T) {
	e := newEnv(t, nil)
	res, err := http.Get(e.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP = %q", csp)
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("no nosniff")
	}
	for _, id := range []string{"file-input", "mapping-number", "check-counts", "task-select", "task-new-name", "start-import", "progress", "summary", "download-report", "download-attention", "history"} {
		if !strings.Contains(string(body), `data-testid="`+id+`"`) {
			t.Errorf("the page has no data-testid %s", id)
		}
	}
	for _, asset := range []string{"/assets/app.js", "/assets/app.css"} {
		status, b := e.do(t, "GET", asset, "", nil, "")
		if status != 200 || strings.Contains(string(b), "http://") || strings.Contains(string(b), "https://") {
			t.Errorf("%s: status %d, or it names an external address", asset, status)
		}
	}
}

func TestTasksAgainstTheSimulator(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.CreateTask("十一月回访", "2000")
	e.sim.CreateTask("December call-back", "2001")

	var created struct{ ID, Name string }
	if status := e.postJSON(t, "/api/tasks", map[string]any{"name": "新客户回访", "agents": []string{"2000", "2001"}, "description": "web"}, &created); status != http.StatusCreated {
		t.Fatalf("create: status %d", status)
	}
	if created.ID == "" || created.Name != "新客户回访" {
		t.Errorf("created = %+v", created)
	}
	var dup errorReply
	if status := e.postJSON(t, "/api/tasks", map[string]any{"name": "新客户回访"}, &dup); status != http.StatusConflict || dup.Field != "name" {
		t.Errorf("same name again: %d %+v, want 409", status, dup)
	}
	var noName errorReply
	if status := e.postJSON(t, "/api/tasks", map[string]any{"name": "  "}, &noName); status != http.StatusBadRequest || noName.Field != "name" {
		t.Errorf("no name: %d %+v", status, noName)
	}

	type task struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		NumberTotal int    `json:"number_total"`
	}
	var all, some []task
	e.getJSON(t, "/api/tasks", &all)
	e.getJSON(t, "/api/tasks?name=回访", &some)
	if len(all) != 3 || len(some) != 2 {
		t.Errorf("all = %+v, 回访 = %+v", all, some)
	}
	var lower []task
	e.getJSON(t, "/api/tasks?name=call", &lower)
	if len(lower) != 1 || lower[0].Name != "December call-back" {
		t.Errorf("search call = %+v", lower)
	}
}

func TestTasksWithoutAnAPIAre503(t *testing.T) {
	e := newEnv(t, func(c *web.Config) { c.Client = nil })
	var er errorReply
	if status := e.getJSON(t, "/api/tasks", &er); status != http.StatusServiceUnavailable || !strings.Contains(er.Error, "only checks files") {
		t.Errorf("status %d %+v", status, er)
	}
	// Checks still work.
	f := e.uploadOK(t, "leads.csv", readFile(t, sample))
	var c checkReply
	if status := e.postJSON(t, "/api/files/"+f.ID+"/check", nil, &c); status != 200 || c.Rows == 0 {
		t.Errorf("check without an API: %d %+v", status, c)
	}
}

func TestServerShutsDownWithItsContext(t *testing.T) {
	srv, err := web.New(web.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- srv.ListenAndServe(ctx, func(a net.Addr) { addrc <- a.String() })
	}()
	addr := <-addrc
	res, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("GET /: %d", res.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ListenAndServe after cancel: %v", err)
	}
	if _, err := http.Get("http://" + addr + "/"); err == nil {
		t.Errorf("still serving after shutdown")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
