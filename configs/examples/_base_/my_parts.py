# Your own labelme data: the folders, the classes and the split, shared by labelme_base.py
# (step 1, base training) and labelme_5shot.py (step 2, few-shot fine-tuning).
my_data_root = 'data/my_parts/'
my_classes = ('scratch', 'dent', 'stain', 'crack')
my_novel = ['crack']
my_train = dict(type='LabelmeDataset', _delete_=True, data_root=my_data_root, ann_file='train/',
                metainfo=dict(classes=my_classes))
my_test = dict(type='LabelmeDataset', _delete_=True, data_root=my_data_root, ann_file='test/',
               metainfo=dict(classes=my_classes), test_mode=True)
my_val = dict(my_test)  # its own copy: each dataloader merges (and drops `_delete_`) once
