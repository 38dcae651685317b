-- Written by hand: drizzle's schema declares tables, not functions.
-- The search document is cut into the words SQLite's FTS5 index sees (unicode61: runs of
-- letters and digits), so both engines find the same products. PostgreSQL's parser keeps some
-- runs whole that FTS5 splits: "L/XL" is a file path, "a@b.co" an email, "1.5" a number,
-- "T-Shirt" a hyphenated word besides its parts; and in a database with the C locale every
-- non-ASCII character counts as a letter, so "56–57 cm" or "women’s" would be single words.
-- Punctuation and symbols (ASCII's, Latin-1's, and the general punctuation, symbol, CJK
-- punctuation and emoji blocks) become spaces after unaccent has folded the text, so the parser
-- sees only words. db/pg/search.ts cuts each word of a query with this same function.
CREATE FUNCTION product_search_words(body text) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT regexp_replace(unaccent(body),
    '[\x01-\x2F\x3A-\x40\x5B-\x60\x7B-\x7F\u0080-\u00A9\u00AB-\u00B1\u00B4\u00B6-\u00B8\u00BB\u00BF\u00D7\u00F7\u2000-\u206F\u20A0-\u20CF\u2190-\u2BFF\u2E00-\u2E7F\u3000-\u3004\u3008-\u3020\u3030\uFE10-\uFE1F\uFE30-\uFE6F\uFF01-\uFF0F\uFF1A-\uFF20\uFF3B-\uFF40\uFF5B-\uFF65\U0001F000-\U0001FAFF]+',
    ' ', 'g');
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION product_search_refresh(ids bigint[]) RETURNS void LANGUAGE sql AS $$
  DELETE FROM product_search WHERE product_id = ANY (ids);
  INSERT INTO product_search (product_id, document)
  SELECT p.id,
    setweight(to_tsvector('simple', product_search_words(p.title)), 'A')
    || setweight(to_tsvector('simple', product_search_words(coalesce((SELECT string_agg(v.sku, ' ') FROM variants v WHERE v.product_id = p.id), ''))), 'A')
    || setweight(to_tsvector('simple', product_search_words(coalesce((SELECT string_agg(c.title, ' ') FROM product_collections pc JOIN collections c ON c.id = pc.collection_id WHERE pc.product_id = p.id), ''))), 'B')
    || setweight(to_tsvector('simple', product_search_words(coalesce((SELECT string_agg(o.value, ' ') FROM variants v, json_each_text(v.options) o WHERE v.product_id = p.id), ''))), 'C')
    || setweight(to_tsvector('simple', product_search_words(p.description)), 'D')
  FROM products p WHERE p.id = ANY (ids) AND p.status = 'active';
$$;
--> statement-breakpoint
-- documents written before this migration are rebuilt the new way
SELECT product_search_refresh(ARRAY(SELECT id FROM products));
