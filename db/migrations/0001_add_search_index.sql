-- Full-text search over the catalog (FTS5). rowid = products.id; only active products are indexed.
-- Triggers keep it in step with every catalog write, in the writer's own transaction.
CREATE VIRTUAL TABLE product_search USING fts5(title, description, skus, options, collections, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
--> statement-breakpoint
CREATE TRIGGER product_search_products_ai AFTER INSERT ON products BEGIN
  DELETE FROM product_search WHERE rowid = NEW.id;
  INSERT INTO product_search(rowid, title, description, skus, options, collections)
    SELECT p.id, p.title, p.description,
      (SELECT coalesce(group_concat(v.sku, ' '), '') FROM variants v WHERE v.product_id = p.id),
      (SELECT coalesce(group_concat(j.value, ' '), '') FROM variants v, json_each(v.options) j WHERE v.product_id = p.id),
      (SELECT coalesce(group_concat(c.title, ' '), '') FROM product_collections pc JOIN collections c ON c.id = pc.collection_id WHERE pc.product_id = p.id)
    FROM products p WHERE p.id = NEW.id AND p.status = 'active';
END;
--> statement-breakpoint
CREATE TRIGGER product_search_products_au AFTER UPDATE OF title, description, status ON products BEGIN
  DELETE FROM product_search WHERE rowid = NEW.id;
  INSERT INTO product_search(rowid, title, description, skus, options, collections)
    SELECT p.id, p.title, p.description,
      (SELECT coalesce(group_concat(v.sku, ' '), '') FROM variants v WHERE v.product_id = p.id),
      (SELECT coalesce(group_concat(j.value, ' '), '') FROM variants v, json_each(v.options) j WHERE v.product_id = p.id),
      (SELECT coalesce(group_concat(c.title, ' '), '') FROM product_collections pc JOIN collections c ON c.id = pc.collection_id WHERE pc.product_id = p.id)
    FROM products p WHERE p.id = NEW.id AND p.status = 'active';
END;
--> statement-breakpoint
CREATE TRIGGER product_search_products_ad AFTER DELETE ON products BEGIN
  DELETE FROM product_search WHERE rowid = OLD.id;
END;
--> statement-breakpoint
CREATE TRIGGER product_search_variants_ai AFTER INSERT ON variants BEGIN
  DELETE FROM product_search WHERE rowid = NEW.product_id;
  INSERT INTO product_search(rowid, title, description, skus, options, collections)
    SELECT p.id, p.title, p.description,
      (SELECT coalesce(group_concat(v.sku, ' '), '') FROM variants v WHERE v.product_id = p.id),
      (SELECT coalesce(group_concat(j.value, ' '), '') FROM variants v, json_each(v.options) j WHERE v.product_id = p.id),
      (SELECT coalesce(group_concat(c.title, ' '), '') FROM product_collections pc JOIN collections c ON c.id = pc.collection_id WHERE pc.product_id = p.id)
    FROM products p WHERE p.id = NEW.product_id AND p.status = 'active';
END;
--> statement-breakpoint
CREATE TRIGGER product_search_variants_au AFTER UPDATE OF sku, options, title ON variants BEGIN
  DELETE FROM product_search WHERE rowid = NEW.product_id;
  INSERT INTO product_search(rowid, title, description, skus, options, collections)
    SELECT p.id, p.title, p.description,
      (SELECT coalesce(group_concat(v.sku, ' '), '') FROM variants v WHERE v.product_id = p.id),
      (SELECT coalesce(group_concat(j.value, ' '), '') FROM variants v, json_each(v.options) j WHERE v.product_id = p.id),
      (SELECT coalesce(group_concat(c.title, ' '), '') FROM product_collections pc JOIN collections c ON c.id = pc.collection_id WHERE pc.product_id = p.id)
    FROM products p WHERE p.id = NEW.product_id AND p.status = 'active';
END;
--> statement-breakpoint
CREATE TRIGGER product_search_variants_ad AFTER DELETE ON variants BEGIN
  DELETE FROM product_search WHERE rowid = OLD.product_id;
  INSERT INTO product_search(rowid, title, description, skus, options, collections)
    SELECT p.id, p.title, p.description,
      (SELECT coalesce(group_concat(v.sku, ' '), '') FROM variants v WHERE v.product_id = p.id),
      (SELECT coalesce(group_concat(j.value, ' '), '') FROM variants v, json_each(v.options) j WHERE v.product_id = p.id),
      (SELECT coalesce(group_concat(c.title, ' '), '') FROM product_collections pc JOIN collections c ON c.id = pc.collection_id WHERE pc.product_id = p.id)
    FROM products p WHERE p.id = OLD.product_id AND p.status = 'active';
END;
--> statement-breakpoint
CREATE TRIGGER product_search_pc_ai AFTER INSERT ON product_collections BEGIN
  DELETE FROM product_search WHERE rowid = NEW.product_id;
  INSERT INTO product_search(rowid, title, description, skus, options, collections)
    SELECT p.id, p.title, p.description,
      (SELECT coalesce(group_concat(v.sku, ' '), '') FROM variants v WHERE v.product_id = p.id),
      (SELECT coalesce(group_concat(j.value, ' '), '') FROM variants v, json_each(v.options) j WHERE v.product_id = p.id),
      (SELECT coalesce(group_concat(c.title, ' '), '') FROM product_collections pc JOIN collections c ON c.id = pc.collection_id WHERE pc.product_id = p.id)
    FROM products p WHERE p.id = NEW.product_id AND p.status = 'active';
END;
--> statement-breakpoint
CREATE TRIGGER product_search_pc_ad AFTER DELETE ON product_collections BEGIN
  DELETE FROM product_search WHERE rowid = OLD.product_id;
  INSERT INTO product_search(rowid, title, description, skus, options, collections)
    SELECT p.id, p.title, p.description,
      (SELECT coalesce(group_concat(v.sku, ' '), '') FROM variants v WHERE v.product_id = p.id),
      (SELECT coalesce(group_concat(j.value, ' '), '') FROM variants v, json_each(v.options) j WHERE v.product_id = p.id),
      (SELECT coalesce(group_concat(c.title, ' '), '') FROM product_collections pc JOIN collections c ON c.id = pc.collection_id WHERE pc.product_id = p.id)
    FROM products p WHERE p.id = OLD.product_id AND p.status = 'active';
END;
--> statement-breakpoint
CREATE TRIGGER product_search_collections_au AFTER UPDATE OF title ON collections BEGIN
  DELETE FROM product_search WHERE rowid IN (SELECT product_id FROM product_collections WHERE collection_id = NEW.id);
  INSERT INTO product_search(rowid, title, description, skus, options, collections)
    SELECT p.id, p.title, p.description,
      (SELECT coalesce(group_concat(v.sku, ' '), '') FROM variants v WHERE v.product_id = p.id),
      (SELECT coalesce(group_concat(j.value, ' '), '') FROM variants v, json_each(v.options) j WHERE v.product_id = p.id),
      (SELECT coalesce(group_concat(c.title, ' '), '') FROM product_collections pc JOIN collections c ON c.id = pc.collection_id WHERE pc.product_id = p.id)
    FROM products p WHERE p.id IN (SELECT product_id FROM product_collections WHERE collection_id = NEW.id) AND p.status = 'active';
END;
