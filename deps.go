package deps

import (
	_ "github.com/cenkalti/backoff/v4"
	_ "github.com/mattn/go-runewidth"
	_ "github.com/nyaruka/phonenumbers"
	_ "github.com/schollz/progressbar/v3"
	_ "github.com/xuri/excelize/v2"
	_ "golang.org/x/term"
	_ "golang.org/x/text/encoding/simplifiedchinese"
	_ "golang.org/x/time/rate"
)
