package i18n

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/m7import/m7import/importer"
)

// knownReasons lists every form of reason the code writes today (and the
// better English suggested for the forms that do not say how to fix the
// row), with its Chinese. A producer's new wording belongs here.
var knownReasons = []struct{ en, zh string }{
	{"missing number",
		"缺少号码：请填写号码，或删除此行"},
	{"missing number: fill in the number or delete the row",
		"缺少号码：请填写号码，或删除此行"},
	{"number in scientific notation, digits lost: format the column as text and export again",
		"号码是科学计数法，末尾数字已丢失：请把该列设为文本格式后重新导出"},
	{"letters in number",
		"号码中有字母：请只保留数字（是否把 0 写成了 O、把 1 写成了 l？）"},
	{"letters in number: keep only the digits (an O for a 0? an l for a 1?)",
		"号码中有字母：请只保留数字（是否把 0 写成了 O、把 1 写成了 l？）"},
	{"extension not supported",
		"不支持分机号：请去掉分机部分（如“转 8”），只保留能直拨的号码"},
	{"extension not supported: keep the number without its extension (转 8, ext. 8); an extension cannot be dialled",
		"不支持分机号：请去掉分机部分（如“转 8”），只保留能直拨的号码"},
	{"too short",
		"号码位数太少：缺了数字，请核对号码（座机需加区号）"},
	{"too short: digits are missing; check the number (a landline needs its area code)",
		"号码位数太少：缺了数字，请核对号码（座机需加区号）"},
	{"too long",
		"号码位数太多：一行只填一个号码（如 18612345678/13912345678 请拆成两行），并检查是否多输了数字"},
	{"too long: one number per row (split 18612345678/13912345678 into two rows); check for extra digits",
		"号码位数太多：一行只填一个号码（如 18612345678/13912345678 请拆成两行），并检查是否多输了数字"},
	{"not a number of the region",
		"不是本地区的号码：请使用 --region 或 --number-policy loose"},
	{"not a valid number",
		"号码无效：请与原始资料核对号码"},
	{"a quoted cell runs over lines that look like other rows (an unclosed quote?): fix the quote and import those rows again",
		"一个带引号的单元格跨越了看似其他行的多行（引号未闭合？）：请修正引号后重新导入这些行"},
	{"not a phone number",
		"不是电话号码：请在此单元格填写电话号码"},
	{"not a phone number: put the phone number in this cell",
		"不是电话号码：请在此单元格填写电话号码"},
	{"numeric cell is not a whole number",
		"数值单元格不是整数：请把该列设为文本格式并填写号码"},
	{"numeric cell 13800138000.5 is not a whole number",
		"数值单元格 13800138000.5 不是整数：请把该列设为文本格式并填写号码"},
	{"numeric cell 13800138000.5 is not a whole number: format the column as text and enter the digits",
		"数值单元格 13800138000.5 不是整数：请把该列设为文本格式并填写号码"},
	{"invalid country code",
		"国家代码无效：请检查 + 后面的数字（中国为 +86）"},
	{"invalid country code: check the digits after + (China is +86)",
		"国家代码无效：请检查 + 后面的数字（中国为 +86）"},
	{"+1 number: not a China number; use --region or --number-policy loose",
		"+1 号码：不是中国号码；请使用 --region 指定地区，或使用 --number-policy loose"},
	{"+81 number: not a FR number; use --region or --number-policy loose",
		"+81 号码：不是 FR 号码；请使用 --region 指定地区，或使用 --number-policy loose"},
	{"+44 number: not a valid number",
		"+44 号码无效：请核对号码的数字"},
	{"+44 number: not a valid number: check its digits",
		"+44 号码无效：请核对号码的数字"},
	{"7 digits: a landline number needs its area code",
		"7 位数字：座机号码需要区号，请加上区号（如 010、0755）"},
	{"10 digits starting with 1: a digit may be missing",
		"以 1 开头的 10 位数字：可能少了一位，请与原始资料核对号码"},
	{"10 digits starting with 1: a digit may be missing; check the number at its source",
		"以 1 开头的 10 位数字：可能少了一位，请与原始资料核对号码"},
	{"12 digits starting with 1: a digit too many",
		"以 1 开头的 12 位数字：多了一位，请删去多余的数字"},
	{"12 digits starting with 1: a digit too many; delete the extra digit",
		"以 1 开头的 12 位数字：多了一位，请删去多余的数字"},
	{"not a valid China number",
		"不是有效的中国号码：请与原始资料核对号码"},
	{"not a valid Hong Kong number",
		"不是有效的中国香港号码：请与原始资料核对号码"},
	{"not a valid China number: check its digits against the source",
		"不是有效的中国号码：请与原始资料核对号码"},
	{"duplicate of row 35",
		"与第 35 行号码重复：该号码只从第 35 行导入一次（除非其中一个号码有误，否则无需处理）"},
	{"duplicate of row 35: the number is sent once, from row 35 (nothing to fix unless one of the two is wrong)",
		"与第 35 行号码重复：该号码只从第 35 行导入一次（除非其中一个号码有误，否则无需处理）"},
	{"number from column 座机 (手机 was empty)",
		"号码取自列 座机（手机 为空）"},
	{"missing number; number from column 备用电话 (联系电话 was empty)",
		"缺少号码：请填写号码，或删除此行；号码取自列 备用电话（联系电话 为空）"},
	{"too long; number from column 座机 (手机 was empty)",
		"号码位数太多：一行只填一个号码（如 18612345678/13912345678 请拆成两行），并检查是否多输了数字；号码取自列 座机（手机 为空）"},
	{"not sent: the run stopped first",
		"未发送：运行在此之前已停止；请用 --resume 重新运行同一命令来发送"},
	{"not sent: the run stopped first; run the same command with --resume to send it",
		"未发送：运行在此之前已停止；请用 --resume 重新运行同一命令来发送"},
	{"not sent: the run stopped first (login refused)",
		"未发送：运行在此之前已停止（login refused）；请用 --resume 重新运行同一命令来发送"},
	{"not sent: the run was stopped",
		"未发送：运行已被停止；请用 --resume 重新运行同一命令来发送"},
	{"not sent: the run was stopped; run the same command with --resume to send it",
		"未发送：运行已被停止；请用 --resume 重新运行同一命令来发送"},
	{"not sent: the file could not be read to the end",
		"未发送：文件未能读到末尾；请修复文件后用 --resume 重新运行同一命令"},
	{"not sent: the file could not be read to the end; fix the file, then run the same command with --resume",
		"未发送：文件未能读到末尾；请修复文件后用 --resume 重新运行同一命令"},
	{"not sent: journal: write leads.journal: no space left on device",
		"未发送：写入日志（journal）失败：write leads.journal: no space left on device；请解决后用 --resume 重新运行"},
	{"not sent: the file cannot be read to the end (row 1234)",
		"未发送：文件在第 1234 行处无法读下去：请修复文件后重新运行"},
	{"not sent: 3 of 10 rows invalid, over --max-invalid 5%",
		"未发送：10 行中有 3 行无效，超过 --max-invalid 5%：请修正无效的行（见检查报告和需处理文件），或调高 --max-invalid"},
	{"not sent: 3 of 10 rows invalid, over --max-invalid 5%; fix the invalid rows (see the check report and the attention file) or raise --max-invalid",
		"未发送：10 行中有 3 行无效，超过 --max-invalid 5%：请修正无效的行（见检查报告和需处理文件），或调高 --max-invalid"},
	{"encode batch: json: unsupported value",
		"批次编码失败：json: unsupported value"},
	{"HTTP 500 code 500: internal error",
		"HTTP 500，错误码 500：internal error"},
	{"code 400: 参数错误",
		"错误码 400：参数错误"},
	{"outcome unknown: HTTP 500 code 500: internal error; not resent under rule 2 (it could import the rows twice)",
		"结果未知：HTTP 500，错误码 500：internal error；按规则 2 不会重发（重发可能使这些号码导入两次）：请先在任务中核对这些号码，缺少时用 --resume --resend-unconfirmed 重发"},
	{"outcome unknown: 7moor import: request sent, no reply: context deadline exceeded; not resent under rule 2 (it could import the rows twice)",
		"结果未知：7moor import：请求已发出，未收到回复：context deadline exceeded；按规则 2 不会重发（重发可能使这些号码导入两次）：请先在任务中核对这些号码，缺少时用 --resume --resend-unconfirmed 重发"},
	{"outcome unknown: HTTP 502 code 502: bad gateway; not resent under rule 2 (it could import the rows twice): check the task for these numbers; if they are missing, run again with --resume --resend-unconfirmed",
		"结果未知：HTTP 502，错误码 502：bad gateway；按规则 2 不会重发（重发可能使这些号码导入两次）：请先在任务中核对这些号码，缺少时用 --resume --resend-unconfirmed 重发"},
	{"7moor import: request not sent: dial tcp 127.0.0.1:9: connect: connection refused (after 4 attempts)",
		"7moor import：请求未发出，连接被拒绝（dial tcp 127.0.0.1:9: connect: connection refused）：请检查 M7_BASE_URL 和网络（共尝试 4 次）"},
	{"7moor import: request not sent: dial tcp: lookup nowhere: no such host",
		"7moor import：请求未发出：dial tcp: lookup nowhere: no such host"},
	{"code 429: too many requests (after 6 attempts)",
		"错误码 429：too many requests（共尝试 6 次）"},
	{"code 400: bad agent; run the same command with --resume to send it again",
		"错误码 400：bad agent；请用 --resume 重新运行同一命令再次发送"},
	{"the server asked to wait 10m0s (Retry-After), longer than --retry-max 1m0s: code 429: slow down",
		"服务器要求等待 10m0s（Retry-After），超过 --retry-max 1m0s：错误码 429：slow down；请调大 --retry-max 后用 --resume 重新运行"},
	{"the server asked to wait 10m0s (Retry-After), longer than --retry-max 1m0s",
		"服务器要求等待 10m0s（Retry-After），超过 --retry-max 1m0s：请调大 --retry-max 后用 --resume 重新运行"},
	{"outcome unknown (the batch was not being tracked)",
		"结果未知（未跟踪该批次）"},
	{"outcome unknown (the batch was not being tracked); not resent under rule 2 (it could import the rows twice)",
		"结果未知（未跟踪该批次）；按规则 2 不会重发（重发可能使这些号码导入两次）：请先在任务中核对这些号码，缺少时用 --resume --resend-unconfirmed 重发"},
	{"outcome unknown: the task's numberTotal could not be read to settle it (code 500: boom)",
		"结果未知：无法读取任务号码总数（numberTotal）来确认（code 500: boom）；请用 --resume 重新运行来确认"},
	{"outcome unknown: the task grew by 12 numbers, which no set of the batches in doubt explains (batch 3: 40 rows, batch 4: 48 rows; between 0 and 88 expected): another import into the same task?",
		"结果未知：任务号码数增加了 12，任何一组待定批次都无法解释（批次 3：40 行，批次 4：48 行；预期在 0 到 88 之间）：是否有另一次导入写入同一任务？请在任务中核对这些号码"},
	{"imported: the reply was lost, and the task's numberTotal (1088, +40 beyond the batches known to be imported) shows this batch landed",
		"已导入：回复丢失，但任务号码总数（1088，比已知导入的批次多 +40）表明该批次已导入"},
	{"imported: the reply was lost, and the task's numberTotal (1088, +40 beyond the batches known to be imported) shows this batch landed (request id req-42)",
		"已导入：回复丢失，但任务号码总数（1088，比已知导入的批次多 +40）表明该批次已导入（请求 ID req-42）"},
	{"not imported: the task's numberTotal (1048) shows this batch did not land, 20s after it was sent; retries used up: code 500: internal error",
		"未导入：发送 20s 后，任务号码总数（1048）表明该批次没有导入；重试次数已用完：错误码 500：internal error"},
	{"outcome unknown: the run stopped while waiting to settle it from the task's numberTotal",
		"结果未知：在根据任务号码总数（numberTotal）确认之前运行已停止；请用 --resume 重新运行来确认"},
	{"imported (settled from the task's numberTotal after an interrupted run)",
		"已导入（中断的运行之后，根据任务号码总数 numberTotal 确认）"},
	{"sent by an interrupted run, outcome unknown; not resent under rule 2 (--resend-unconfirmed to resend)",
		"由中断的运行发出，结果未知；按规则 2 不会重发：请先在任务中核对这些号码，缺少时用 --resend-unconfirmed 重发"},
	{"outcome unknown: code 500: boom; deleting again is safe",
		"结果未知：错误码 500：boom；再次删除是安全的：请重新运行删除命令"},
	{"outcome unknown: code 500: boom; deleting again is safe (after 3 attempts)",
		"结果未知：错误码 500：boom；再次删除是安全的：请重新运行删除命令（共尝试 3 次）"},
	{"same number as row 2",
		"与第 2 行号码相同，结果同该行"},
	{"same number as row 2: code 400: bad number",
		"与第 2 行号码相同，结果同该行：错误码 400：bad number"},
	{"the report gives no normalized number for this row",
		"报告中此行没有规范化号码，无法删除：请在任务中手动核对该号码"},
}

func TestReasonTranslatesEveryKnownForm(t *testing.T) {
	for _, tc := range knownReasons {
		if got := Reason(Zh, tc.en); got != tc.zh {
			t.Errorf("Reason(Zh, %q)\n got: %q\nwant: %q", tc.en, got, tc.zh)
		}
		if got := Reason(En, tc.en); got != tc.en {
			t.Errorf("Reason(En, %q) = %q: English must come back unchanged", tc.en, got)
		}
	}
}

func TestReasonsCachesTheSameAnswers(t *testing.T) {
	zh, en := Reasons(Zh), Reasons(En)
	for range 2 { // the second round is answered from the cache
		for _, tc := range knownReasons {
			if got := zh(tc.en); got != tc.zh {
				t.Errorf("Reasons(Zh)(%q) = %q, want %q", tc.en, got, tc.zh)
			}
			if got := en(tc.en); got != tc.en {
				t.Errorf("Reasons(En)(%q) = %q", tc.en, got)
			}
		}
	}
	for i := range cacheSize + 10 { // past the bound: still right
		s := "duplicate of row " + strings.Repeat("1", 1+i%3) + string(rune('0'+i%10))
		if got := zh(s); got != Reason(Zh, s) {
			t.Fatalf("after %d entries: %q", i, got)
		}
	}
}

func TestReasonKeepsWhatItDoesNotKnow(t *testing.T) {
	for _, s := range []string{
		"",
		"something new happened",
		"code 500: the vendor's own message; with a semicolon",
		strings.Repeat("x", maxLen+1),
		"\xff\xfe not UTF-8",
	} {
		if got := Reason(Zh, s); !strings.HasSuffix(Reason(Zh, s), "; with a semicolon") && got != s {
			t.Errorf("Reason(Zh, %q) = %q, want it kept", s, got)
		}
	}
	// The vendor's message inside a known frame is kept as it is.
	if got := Reason(Zh, "code 500: the vendor's own message; with a semicolon"); got != "错误码 500：the vendor's own message; with a semicolon" {
		t.Errorf("vendor message: %q", got)
	}
}

// asciiWord finds English left in a Chinese reason.
var asciiWord = regexp.MustCompile(`[A-Za-z]{3,}`)

// allowedASCII are the words a Chinese reason may keep: flags, and the
// columns of the corpus (none of which is ASCII).
var allowedASCII = map[string]bool{"region": true, "number": true, "policy": true, "loose": true}

// TestImporterReasonsAllHaveChinese reads a corpus of bad cells through the
// importer, as an import would, and fails for any reason the table does not
// translate (a producer's new or changed wording), or whose Chinese does
// not tell how to fix the row.
func TestImporterReasonsAllHaveChinese(t *testing.T) {
	cells := []string{
		"",                        // missing number
		"1380013800A",             // letters
		"138-0013-800O",           // letters
		"12",                      // too short
		"138001",                  // too short / landline without area code
		"18612345678/13912345678", // too long
		"138001380001234567890",   // too long
		"13800138000 转 8",         // extension
		"010-88886666 分机 123",     // extension
		"010-88886666 ext. 12",    // extension
		"+1 202-555-0143",         // another region
		"+44 20 1234",             // not a valid +44 number
		"+999 1234567",            // invalid country code
		"1.38E+10",                // digits lost
		"N/A",                     // not a phone number
		"无",                       // not a phone number
		"88886666",                // landline without its area code
		"1380013800",              // 10 digits starting with 1
		"138001380001",            // 12 digits starting with 1
		"19999999999999",          // too long
		"00000000000",             // not valid
		"13800138000",             // valid
		"13800138000",             // duplicate
		"=1+2",                    // formula text
	}
	var b strings.Builder
	b.WriteString("姓名,手机,座机\n")
	for i, c := range cells {
		b.WriteString("客户" + string(rune('A'+i)) + "," + csvCell(c) + ",\n")
	}
	// The fallback column: 手机 empty, 座机 filled (valid, and invalid).
	b.WriteString("客户Y,,075586013388\n客户Z,,12345\n")
	path := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, policy := range []importer.Policy{importer.Strict, importer.Loose} {
		r, err := importer.Open(context.Background(), path, importer.Options{Policy: policy})
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if rec.Reason != "" {
				seen[rec.Reason] = rec.Status == importer.Invalid
			}
		}
		r.Close()
	}
	n, err := importer.NewNormalizer("CN", importer.Strict)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{"13800138000.5", "1e400", ""} {
		if _, err := n.NormalizeNumeric(raw); err != nil {
			seen[err.Error()] = true
		}
	}
	if len(seen) < 12 {
		t.Fatalf("the corpus gave only %d distinct reasons: %v", len(seen), seen)
	}
	for en, invalid := range seen {
		t.Logf("%v %q", invalid, en)
		zh := Reason(Zh, en)
		if zh == en {
			t.Errorf("reason %q has no Chinese: add it to table.go", en)
			continue
		}
		for _, w := range asciiWord.FindAllString(zh, -1) {
			if !allowedASCII[w] {
				t.Errorf("reason %q: English %q left in %q", en, w, zh)
			}
		}
		if invalid && !strings.Contains(zh, "请") {
			t.Errorf("reason %q: the Chinese %q does not say how to fix the row", en, zh)
		}
	}
}

func csvCell(s string) string {
	if strings.ContainsAny(s, ",\"\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}
