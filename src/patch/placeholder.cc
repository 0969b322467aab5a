// patch library
