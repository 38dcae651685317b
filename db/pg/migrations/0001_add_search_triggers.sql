-- Written by hand: drizzle's schema declares tables, not functions or triggers.
-- The PostgreSQL side of SQLite's FTS5 index (db/migrations/0001_add_search_index.sql): one
-- tsvector per active product in product_search, rebuilt by triggers in the writer's own
-- transaction from the same five sources (title, skus, collections, option values,
-- description), weighted in that order for ranking. The 'simple' configuration does not stem,
-- as FTS5's unicode61 tokenizer does not; unaccent folds diacritics as its remove_diacritics
-- does. A query must be built the same way: to_tsquery('simple', unaccent(...)), `word:*` for a prefix.
CREATE EXTENSION IF NOT EXISTS unaccent;
--> statement-breakpoint
CREATE FUNCTION product_search_refresh(ids bigint[]) RETURNS void LANGUAGE sql AS $$
  DELETE FROM product_search WHERE product_id = ANY (ids);
  INSERT INTO product_search (product_id, document)
  SELECT p.id,
    setweight(to_tsvector('simple', unaccent(p.title)), 'A')
    || setweight(to_tsvector('simple', unaccent(coalesce((SELECT string_agg(v.sku, ' ') FROM variants v WHERE v.product_id = p.id), ''))), 'A')
    || setweight(to_tsvector('simple', unaccent(coalesce((SELECT string_agg(c.title, ' ') FROM product_collections pc JOIN collections c ON c.id = pc.collection_id WHERE pc.product_id = p.id), ''))), 'B')
    || setweight(to_tsvector('simple', unaccent(coalesce((SELECT string_agg(o.value, ' ') FROM variants v, json_each_text(v.options) o WHERE v.product_id = p.id), ''))), 'C')
    || setweight(to_tsvector('simple', unaccent(p.description)), 'D')
  FROM products p WHERE p.id = ANY (ids) AND p.status = 'active';
$$;
--> statement-breakpoint
CREATE FUNCTION product_search_on_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'products' THEN
    IF TG_OP <> 'DELETE' THEN PERFORM product_search_refresh(ARRAY[NEW.id]); END IF;
  ELSIF TG_TABLE_NAME = 'collections' THEN
    PERFORM product_search_refresh(ARRAY(SELECT product_id FROM product_collections WHERE collection_id = NEW.id));
  ELSE
    -- variants and product_collections: the product it left and the product it joined
    IF TG_OP <> 'INSERT' THEN PERFORM product_search_refresh(ARRAY[OLD.product_id]); END IF;
    IF TG_OP <> 'DELETE' THEN PERFORM product_search_refresh(ARRAY[NEW.product_id]); END IF;
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER product_search_products AFTER INSERT OR UPDATE OF title, description, status ON products
  FOR EACH ROW EXECUTE FUNCTION product_search_on_change();
--> statement-breakpoint
CREATE TRIGGER product_search_variants AFTER INSERT OR DELETE OR UPDATE OF product_id, sku, options ON variants
  FOR EACH ROW EXECUTE FUNCTION product_search_on_change();
--> statement-breakpoint
CREATE TRIGGER product_search_product_collections AFTER INSERT OR DELETE OR UPDATE ON product_collections
  FOR EACH ROW EXECUTE FUNCTION product_search_on_change();
--> statement-breakpoint
CREATE TRIGGER product_search_collections AFTER UPDATE OF title ON collections
  FOR EACH ROW EXECUTE FUNCTION product_search_on_change();
