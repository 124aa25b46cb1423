package importer

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

// Field is one of the four values a row carries to the dialer.
type Field string

// The fields, named as in the vendor's importData objects.
const (
	FieldName        Field = "name"
	FieldNumber      Field = "number"
	FieldRemark      Field = "remark"
	FieldAgentNumber Field = "agentNumber"
)

// fields lists the fields in their positional (--no-header) order.
var fields = [4]Field{FieldName, FieldNumber, FieldRemark, FieldAgentNumber}

// synonyms maps a header key (see headerKey) to its field. The lists hold
// what real CRM, WPS and Excel exports call the columns; the first column
// whose header is a synonym of a field gets it.
var synonyms = func() map[string]Field {
	m := map[string]Field{}
	add := func(f Field, names ...string) {
		for _, n := range names {
			m[foldHeader(n)] = f
		}
	}
	add(FieldName, "姓名", "名字", "客户姓名", "客户名称", "客户名字", "名称", "用户名称", "用户姓名", "客户名", "联系人", "联系人姓名",
		"name", "customer", "customername", "customer name", "customer_name", "fullname", "full name", "contact", "contact name", "client", "client name")
	add(FieldNumber, "号码", "电话", "手机", "手机号", "手机号码", "电话号码", "联系电话", "联系方式", "联系手机", "移动电话", "客户号码", "呼叫号码",
		"客户电话", "客户手机", "客户手机号", "联系号码",
		"number", "phone", "mobile", "mobile phone", "mobile number", "mobile no", "cell", "cell phone", "cellphone", "cell number",
		"tel", "tel no", "telephone", "telephone number", "phone no", "phone number", "phonenumber", "phone_number", "mobilephone",
		"mobile_phone", "customernumber", "customer_number", "customer phone", "contact number", "contact phone")
	add(FieldRemark, "备注", "说明", "备注说明", "备注信息", "remark", "remarks", "note", "notes", "comment", "comments", "memo")
	add(FieldAgentNumber, "座席工号", "坐席工号", "工号", "座席", "坐席", "座席号", "坐席号", "agentnumber", "agent_number", "agent", "agentno", "agent_no", "agentid", "agent_id")
	return m
}()

// otherPhones are header keys of phone columns that are not the number
// column by name but may stand in for it: a landline, a second number. A
// file whose only phone column is one of these reads it as the number
// column; otherwise they are the fallback when the number cell is empty.
var otherPhones = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range []string{"座机", "座机号", "座机号码", "座机电话", "固话", "固定电话", "固话号码", "备用电话", "备用号码", "备用手机",
		"其他电话", "其它电话", "其他号码", "其它号码", "其他联系方式", "办公电话", "家庭电话", "公司电话", "单位电话", "住宅电话", "工作电话",
		"landline", "home phone", "work phone", "office phone", "business phone", "other phone", "alt phone", "alternate phone",
		"secondary phone", "backup phone"} {
		m[foldHeader(n)] = true
	}
	return m
}()

// headerKey is the form in which a header cell is compared with the
// synonyms: trimmed, full-width folded to half-width, case-folded, without
// a bracketed note or a leading/trailing marker such as * or : (手机号(必填)
// and *手机号： are both 手机号). It never matches a substring: 手机号必须为11位
// is not 手机号.
func headerKey(s string) string {
	s = width.Fold.String(trimCell(s))
	if k := foldHeader(strings.Trim(dropBracketed(s), " *:.")); k != "" {
		return k
	}
	return foldHeader(s)
}

// dropBracketed removes bracketed notes: (必填), [required], 【选填】.
func dropBracketed(s string) string {
	if !strings.ContainsAny(s, "([【〔") {
		return s
	}
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch r {
		case '(', '[', '【', '〔':
			depth++
			continue
		case ')', ']', '】', '〕':
			if depth > 0 {
				depth--
				continue
			}
		}
		if depth == 0 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isNumberKey reports a header key that names the number field.
func isNumberKey(k string) bool { return synonyms[k] == FieldNumber }

// isPhoneKey reports a header key of any phone column: a number synonym,
// a landline or spare number, or one of these with a digit after it
// (电话2, phone 3).
func isPhoneKey(k string) bool {
	if isNumberKey(k) || otherPhones[k] {
		return true
	}
	t := strings.TrimRight(k, "0123456789")
	return t != k && t != "" && (isNumberKey(t) || otherPhones[t])
}

// foldHeader makes header matching case-, width- and space-insensitive.
func foldHeader(s string) string {
	var b strings.Builder
	for _, r := range s {
		r = narrow(r)
		if unicode.IsSpace(r) || r == '\ufeff' || r == '-' || r == '_' {
			continue
		}
		if r >= 'Ａ' && r <= 'Ｚ' || r >= 'ａ' && r <= 'ｚ' {
			r = r - 'Ａ' + 'A'
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// ParseField reads a field name as written in --map: name, number, remark,
// agentNumber (also agent, agent_number), case-insensitively.
func ParseField(s string) (Field, error) {
	switch foldHeader(s) {
	case "name":
		return FieldName, nil
	case "number", "phone":
		return FieldNumber, nil
	case "remark":
		return FieldRemark, nil
	case "agentnumber", "agent":
		return FieldAgentNumber, nil
	}
	return "", fmt.Errorf("field %q: %w (want name, number, remark or agentNumber)", s, ErrBadOption)
}

// ParseMap reads the --map flag: comma-separated FIELD=HEADER pairs such as
// "number=联系方式,name=客户". A HEADER of digits only names a column by its
// 1-based position when no header cell has that text.
func ParseMap(s string) (map[Field]string, error) {
	m := map[Field]string{}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for _, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok || strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("--map %q: %w (want FIELD=HEADER pairs, e.g. number=联系方式)", pair, ErrBadOption)
		}
		f, err := ParseField(k)
		if err != nil {
			return nil, fmt.Errorf("--map: %w", err)
		}
		if _, dup := m[f]; dup {
			return nil, fmt.Errorf("--map: %w: field %s given twice", ErrBadOption, f)
		}
		m[f] = strings.TrimSpace(v)
	}
	return m, nil
}

// columnMap is where each field sits in a row (-1: absent).
type columnMap struct {
	idx    [4]int
	source map[Field]string
}

func columnLabel(i int) string { return "column " + strconv.Itoa(i+1) }

// headerLabel names column i by its header cell, or "column N" when it has
// none.
func headerLabel(header []string, i int) string {
	if header == nil || i >= len(header) || trimCell(header[i]) == "" {
		return columnLabel(i)
	}
	return trimCell(header[i])
}

// mapColumns decides the column of each field from the header row (nil with
// NoHeader), the overrides and the synonyms; the first synonym wins. With
// no number synonym, the first other phone column (座机, 电话2) is the
// number column.
func mapColumns(header []string, overrides map[Field]string) (columnMap, error) {
	cm := columnMap{idx: [4]int{-1, -1, -1, -1}, source: map[Field]string{}}
	taken := map[int]bool{}
	for fi, f := range fields {
		want, ok := overrides[f]
		if !ok {
			continue
		}
		col := -1
		for i, h := range header {
			if foldHeader(h) == foldHeader(want) {
				col = i
				break
			}
		}
		if col < 0 {
			for i, h := range header {
				if headerKey(h) == headerKey(want) {
					col = i
					break
				}
			}
		}
		if col < 0 {
			if n, err := strconv.Atoi(want); err == nil && n >= 1 && n <= 16384 {
				col = n - 1
			}
		}
		if col < 0 {
			return cm, fmt.Errorf("--map %s=%s: %w: no such column; headers found: %s", f, want, ErrBadOption, quoteList(header))
		}
		cm.idx[fi] = col
		taken[col] = true
	}
	if header == nil {
		for fi := range fields {
			if cm.idx[fi] < 0 && !taken[fi] {
				cm.idx[fi] = fi
			}
		}
	} else {
		for i, h := range header {
			f, ok := synonyms[headerKey(h)]
			if !ok || taken[i] {
				continue
			}
			fi := fieldIndex(f)
			if cm.idx[fi] < 0 {
				cm.idx[fi] = i
				taken[i] = true
			}
		}
		if cm.idx[1] < 0 {
			for i, h := range header {
				if !taken[i] && isPhoneKey(headerKey(h)) {
					cm.idx[1] = i
					break
				}
			}
		}
	}
	for fi, f := range fields {
		if cm.idx[fi] >= 0 {
			cm.source[f] = headerLabel(header, cm.idx[fi])
		}
	}
	return cm, nil
}

func (cm columnMap) mapped(col int) bool {
	for _, c := range cm.idx {
		if c == col {
			return true
		}
	}
	return false
}

func fieldIndex(f Field) int {
	for i, g := range fields {
		if g == f {
			return i
		}
	}
	return -1
}

func quoteList(ss []string) string {
	if len(ss) == 0 {
		return "(none)"
	}
	q := make([]string, 0, len(ss))
	for i, s := range ss {
		if i == 20 {
			q = append(q, fmt.Sprintf("... (%d more)", len(ss)-20))
			break
		}
		q = append(q, strconv.Quote(trimCell(s)))
	}
	return strings.Join(q, ", ")
}

// mapHint is the --map flag (shell-quoted) that would make the likeliest
// unmapped column of header the number column, and whether a column looks
// like a phone column at all.
func mapHint(header []string, cm columnMap) (string, bool) {
	hint, best := "", 0
	for i, h := range header {
		if cm.mapped(i) || trimCell(h) == "" {
			continue
		}
		score := 1
		f := headerKey(h)
		for _, w := range []string{"电话", "手机", "号码", "联系", "phone", "tel", "mobile", "number", "号"} {
			if strings.Contains(f, w) {
				score = 2
			}
		}
		if score > best {
			value := trimCell(h)
			if strings.Contains(value, ",") {
				// --map splits on commas: name the column by position.
				value = strconv.Itoa(i + 1)
			}
			hint, best = "--map "+ShellQuote("number="+value), score
		}
	}
	if hint == "" {
		return "--map number=COLUMN", false
	}
	return hint, best == 2
}

// noNumberColumn builds the refusal for a header without a number column,
// with a copy-pasteable hint: --map naming the likeliest unmapped column;
// --no-header when the row looks like data (a cell of 7 digits or more);
// --header-row when it holds a single cell (a title).
func noNumberColumn(path string, where string, header []string, cm columnMap) error {
	hint, phone := mapHint(header, cm)
	if !phone && header != nil {
		for i, h := range header {
			if hasDigitRun(h, 7) {
				hint = "--no-header --map number=" + strconv.Itoa(i+1) + " if the file has no header row"
				break
			}
		}
		if filled(header) < 2 {
			hint = "--header-row N with the number of the row that holds the column names, or " + hint
		}
	}
	return fmt.Errorf("read %s: %w: headers found%s: %s; try %s", path, ErrNoNumberColumn, where, quoteList(header), hint)
}

// ShellQuote returns s as one word for a POSIX shell: unchanged when it
// holds only characters a shell leaves alone (letters, digits, CJK text,
// - _ . / = : , + @ %), otherwise in single quotes, an embedded quote being
// closed, escaped and reopened. Hints in error messages use it so that they
// can be pasted as they are:
//
//	--map 'number=手机号(必填)'
//	--map 'number=Customer'\''s phone'
func ShellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for i := 0; i < len(s) && safe; i++ {
		c := s[i]
		safe = c >= 0x80 || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-_./=:,+@%", c) >= 0
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
