-- The detail copies of V4 are JSON text in the format the binary writes them in. This row
-- records which format (domain::detail::DETAIL_FORMAT) the stored copies carry: a binary
-- that writes another format clears them when it opens the file, and writes them again.
CREATE TABLE detail_copy_format (version INTEGER NOT NULL);
INSERT INTO detail_copy_format (version) VALUES (1);
