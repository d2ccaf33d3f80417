module faultline.dev/demo-http

go 1.22
