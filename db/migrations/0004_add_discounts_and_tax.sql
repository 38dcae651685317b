ALTER TABLE `order_lines` ADD `subtotal_cents` integer;--> statement-breakpoint
ALTER TABLE `order_lines` ADD `discount_cents` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `order_lines` ADD `tax_cents` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `orders` ADD `discount_cents` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `orders` ADD `discount_codes` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `orders` ADD `is_tax_inclusive` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `products` ADD `tax_code` text;