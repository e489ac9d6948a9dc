INSERT INTO actions(key,run_id,as_of,policy,policy_version,rule,step,customer_id,invoice_ids,kind,tone,template,scheduled_at,priority,assignee,status,reason) VALUES
('a1',NULL,'2026-06-16','quiet',1,'legacy','x','C1','[]','email','neutral','email-neutral','x',NULL,NULL,'scheduled','x'),
('b1',NULL,'2026-06-17','quiet',1,'legacy','x','C2','[]','email','firm','email-firm','x',NULL,NULL,'scheduled','x'),
('c1',NULL,'2026-06-10','quiet',1,'legacy','x','C3','[]','email','firm','email-firm','x',NULL,NULL,'sent','x'),
('c2',NULL,'2026-06-25','quiet',1,'legacy','x','C3','[]','email','final','email-final','x',NULL,NULL,'deferred','x'),
('e1',NULL,'2026-06-01','quiet',1,'legacy','x','C5','[]','letter','firm','letter-firm','x',NULL,NULL,'scheduled','x'),
('e2',NULL,'2026-06-25','quiet',1,'legacy','x','C5','[]','hold',NULL,NULL,'x',NULL,NULL,'scheduled','x'),
('e3',NULL,'2026-06-26','quiet',1,'legacy','x','C5','[]','email','neutral','email-neutral','x',NULL,NULL,'skipped','x');
