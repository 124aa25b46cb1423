package api_test

import (
	"bytes"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/m7import/m7import/api"
)

// BenchmarkBuildSignedImport2000 is the client's whole cost of one full
// import request short of the network: marshal 2000 rows, sign, and build
// the *http.Request with its four m7-* headers, as Client.Post does.
func BenchmarkBuildSignedImport2000(b *testing.B) {
	rows := make([]api.ImportRow, api.MaxImportRows)
	for i := range rows {
		rows[i] = api.ImportRow{
			Name:        "客户" + strconv.Itoa(i),
			Number:      strconv.Itoa(13800000000 + i),
			Remark:      "上午联系",
			AgentNumber: "2001",
		}
	}
	req := api.ImportRequest{TaskID: "6ab971b0-6005-452e-9328-0883299619eb", ImportData: rows}
	const appKey, secret = "bench-appkey", "bench-secret"
	ts := api.Timestamp(time.Unix(1764000000, 0))
	first, err := api.MarshalImport(req)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(first)))
	for b.Loop() {
		body, err := api.MarshalImport(req)
		if err != nil {
			b.Fatal(err)
		}
		hr, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:1"+api.PathImport, bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		hr.Header.Set("Content-Type", "application/json")
		hr.Header.Set(api.HeaderAppKey, appKey)
		hr.Header.Set(api.HeaderNonce, "123456")
		hr.Header.Set(api.HeaderTimestamp, ts)
		hr.Header.Set(api.HeaderSign, api.Sign(appKey, secret, ts, "123456"))
	}
}
