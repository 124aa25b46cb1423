package importer

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
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

// synonyms maps a folded header cell (see foldHeader) to its field.
var synonyms = func() map[string]Field {
	m := map[string]Field{}
	add := func(f Field, names ...string) {
		for _, n := range names {
			m[foldHeader(n)] = f
		}
	}
	add(FieldName, "姓名", "客户姓名", "客户名称", "名称", "用户名称", "客户名", "联系人", "name", "customer", "customername", "customer_name", "fullname", "full name")
	add(FieldNumber, "号码", "电话", "手机", "手机号", "手机号码", "电话号码", "联系电话", "客户号码", "呼叫号码", "客户电话", "客户手机", "联系号码",
		"number", "phone", "mobile", "tel", "telephone", "phonenumber", "phone_number", "mobilephone", "mobile_phone", "cellphone", "customernumber", "customer_number")
	add(FieldRemark, "备注", "说明", "备注说明", "备注信息", "remark", "remarks", "note", "notes", "comment", "comments", "memo")
	add(FieldAgentNumber, "座席工号", "坐席工号", "工号", "座席", "坐席", "座席号", "坐席号", "agentnumber", "agent_number", "agent", "agentno", "agent_no", "agentid", "agent_id")
	return m
}()

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

// mapColumns decides the column of each field from the header row (nil with
// NoHeader), the overrides and the synonyms; the first synonym wins.
func mapColumns(header []string, overrides map[Field]string) (columnMap, error) {
	cm := columnMap{idx: [4]int{-1, -1, -1, -1}, source: map[Field]string{}}
	taken := map[int]bool{}
	label := func(i int) string {
		if header == nil || i >= len(header) || trimCell(header[i]) == "" {
			return columnLabel(i)
		}
		return trimCell(header[i])
	}
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
			f, ok := synonyms[foldHeader(h)]
			if !ok || taken[i] {
				continue
			}
			fi := fieldIndex(f)
			if cm.idx[fi] < 0 {
				cm.idx[fi] = i
				taken[i] = true
			}
		}
	}
	for fi, f := range fields {
		if cm.idx[fi] >= 0 {
			cm.source[f] = label(cm.idx[fi])
		}
	}
	return cm, nil
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

// noNumberColumn builds the refusal for a header without a number column,
// with a --map hint naming the likeliest unmapped column.
func noNumberColumn(path string, header []string, cm columnMap) error {
	// Suggest the unmapped header that most looks like a phone column.
	hint, best := "COLUMN", 0
	for i, h := range header {
		used := false
		for _, c := range cm.idx {
			used = used || c == i
		}
		if used || trimCell(h) == "" {
			continue
		}
		score := 1
		f := foldHeader(h)
		for _, w := range []string{"电话", "手机", "号码", "联系", "phone", "tel", "mobile", "number", "号"} {
			if strings.Contains(f, w) {
				score = 2
			}
		}
		if score > best {
			hint, best = trimCell(h), score
		}
	}
	return fmt.Errorf("read %s: %w: headers found: %s; try --map number=%s", path, ErrNoNumberColumn, quoteList(header), hint)
}
