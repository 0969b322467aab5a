// apiserver
