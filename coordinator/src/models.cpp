// being written (issue 6)
