import { ArrayMaxSize, ArrayMinSize, IsArray, IsString, Matches } from 'class-validator';
import { MAX_BATCH_ITEMS, USER_ID_PATTERN, USER_ID_RULE } from '@app/notifications';
import { PublishEntryRequest } from '../polling/polling.dto';

export class PublishNotificationRequest extends PublishEntryRequest {
  @IsString()
  @Matches(USER_ID_PATTERN, { message: `userId ${USER_ID_RULE}` })
  userId!: string;
}

const batchSizeMessage = `items must be an array of 1 to ${MAX_BATCH_ITEMS} notifications`;

export class PublishBatchRequest {
  /** Each item is checked by NotificationService.publishBatch, which names it (`items[3].type`). */
  @IsArray({ message: batchSizeMessage })
  @ArrayMinSize(1, { message: batchSizeMessage })
  @ArrayMaxSize(MAX_BATCH_ITEMS, { message: batchSizeMessage })
  items!: unknown[];
}
