INSERT INTO actions(key,run_id,as_of,policy,policy_version,rule,step,customer_id,invoice_ids,kind,tone,template,scheduled_at,priority,assignee,status,reason) VALUES
('c1',NULL,'2026-03-10','sib',1,'dunning','15d','C1','["I1"]','call','firm','call-firm','2026-03-10T09:00:00-04:00',1200.0,NULL,'scheduled','x'),
('c2',NULL,'2026-03-10','sib',1,'dunning','15d','C1','["I1"]','email','firm','email-firm','2026-03-10T09:00:00-04:00',NULL,NULL,'deferred','x'),
('d1',NULL,'2026-03-10','sib',1,'dunning','30d','C2','["I2"]','hold',NULL,NULL,'2026-03-10T09:00:00-04:00',NULL,NULL,'scheduled','x'),
('d2',NULL,'2026-03-10','sib',1,'dunning','30d','C2','["I2"]','letter','final','letter-final','2026-03-10T09:00:00-04:00',NULL,NULL,'deferred','x'),
('d3',NULL,'2026-03-10','sib',1,'legacy','x','C2','[]','email','firm','email-firm','2026-03-10T09:00:00-04:00',NULL,NULL,'scheduled','x'),
('e1',NULL,'2026-03-12','sib',1,'dunning','15d','C3','["I3"]','call','firm','call-firm','2026-03-12T09:00:00-04:00',300.0,NULL,'scheduled','x'),
('e2',NULL,'2026-03-12','sib',1,'dunning','15d','C3','["I3"]','email','firm','email-firm','2026-03-12T09:00:00-04:00',NULL,NULL,'deferred','x');
