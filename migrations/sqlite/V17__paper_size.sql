-- The paper the organization's documents (invoice and statement PDFs) are laid out for,
-- unless a request asks for another.
ALTER TABLE organizations ADD COLUMN paper_size TEXT NOT NULL DEFAULT 'a4'
    CHECK (paper_size IN ('a4', 'letter'));
