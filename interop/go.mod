module github.com/tagwamp/tagwamp/interop

go 1.26.0

require github.com/tagwamp/tagwamp v0.0.0

require (
	github.com/gobwas/httphead v0.1.0 // indirect
	github.com/gobwas/ws v1.5.0 // indirect
	github.com/goccy/go-json v0.12.0 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/mailru/easygo v0.0.0-20190618140210-3c14a0dc985f // indirect
	golang.org/x/sys v0.49.0 // indirect
)

replace github.com/tagwamp/tagwamp => ../
