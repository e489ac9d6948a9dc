INSERT INTO actions(key,run_id,as_of,policy,policy_version,rule,step,customer_id,invoice_ids,kind,tone,template,scheduled_at,priority,assignee,status,reason) VALUES
('a0',NULL,'2026-05-18','rdef',1,'legacy','x','C1','[]','call','firm','call-firm','x',NULL,NULL,'scheduled','x'),
('a1',NULL,'2026-05-18','rdef',1,'over_limit',NULL,'C1','[]','hold',NULL,NULL,'x',NULL,NULL,'scheduled','x'),
('a2',NULL,'2026-05-18','rdef',1,'over_limit',NULL,'C1','[]','email','firm','over-limit','x',NULL,NULL,'deferred','x'),
('b0',NULL,'2026-04-10','rdef',1,'over_limit',NULL,'C2','[]','email','firm','over-limit','x',NULL,NULL,'sent','x'),
('b1',NULL,'2026-05-18','rdef',1,'over_limit',NULL,'C2','[]','hold',NULL,NULL,'x',NULL,NULL,'scheduled','x'),
('b2',NULL,'2026-05-18','rdef',1,'over_limit',NULL,'C2','[]','email','firm','over-limit','x',NULL,NULL,'deferred','x'),
('c1',NULL,'2026-05-18','rdef',1,'over_limit',NULL,'C3','[]','hold',NULL,NULL,'x',NULL,NULL,'scheduled','x'),
('c2',NULL,'2026-05-18','rdef',1,'over_limit',NULL,'C3','[]','email','firm','over-limit','x',NULL,NULL,'deferred','x'),
('c3',NULL,'2026-05-19','rdef',1,'over_limit',NULL,'C3','[]','email','firm','over-limit','x',NULL,NULL,'scheduled','x');
